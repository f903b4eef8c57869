package org.routecal.compute.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * Kernel arguments in declaration order, each recorded with its signature letter so a launch can be checked
 * against {@link Kernel#signature()} before it reaches the driver. A null device pointer is passed as a 0 address
 * (the kernels treat null as "absent", e.g. no row gather or no zero point).
 */
final class LaunchArgs {
    private final List<NativePointerObject> values = new ArrayList<>();
    private final StringBuilder kinds = new StringBuilder();

    LaunchArgs ptr(CUdeviceptr p) {
        values.add(Pointer.to(p != null ? p : new CUdeviceptr()));
        kinds.append('P');
        return this;
    }

    LaunchArgs ptr(DeviceBuffer b) { return ptr(b != null ? b.pointer() : null); }

    LaunchArgs i(int v) {
        values.add(Pointer.to(new int[] {v}));
        kinds.append('I');
        return this;
    }

    LaunchArgs l(long v) {
        values.add(Pointer.to(new long[] {v}));
        kinds.append('L');
        return this;
    }

    LaunchArgs f(float v) {
        values.add(Pointer.to(new float[] {v}));
        kinds.append('F');
        return this;
    }

    /** The letters of the arguments added so far, comparable with {@link Kernel#signature()}. */
    String signature() { return kinds.toString(); }

    Pointer toKernelParams() { return Pointer.to(values.toArray(new NativePointerObject[0])); }
}
