package org.routecal.compute.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * GPU time per kernel, from a pair of CUDA events around every launch of one context while a profile is attached
 * ({@link CudaContext#profile(KernelProfile)}). Events are recorded on the launch's stream and read only in
 * {@link #drain}, after the caller has synchronized, so profiling adds no host waits between launches. What the sum of
 * kernel times leaves of the wall time is the host's share (launch overhead, copies, bookkeeping): that is what an
 * nsys timeline would show, without needing nsys on the GPU machine.
 */
public final class KernelProfile {
    /** Launches and GPU milliseconds of one kernel. */
    public record Entry(String kernel, long launches, double millis) {}

    private record Pending(String kernel, CUevent start, CUevent stop) {}

    private final List<Pending> pending = new ArrayList<>();
    private final Map<String, double[]> totals = new LinkedHashMap<>();

    void beforeLaunch(String kernel, CUstream stream) {
        CUevent start = event(), stop = event();
        CudaException.check(cuEventRecord(start, stream), "cuEventRecord(profile " + kernel + ")");
        pending.add(new Pending(kernel, start, stop));
    }

    void afterLaunch(CUstream stream) {
        Pending p = pending.get(pending.size() - 1);
        CudaException.check(cuEventRecord(p.stop, stream), "cuEventRecord(profile " + p.kernel + ")");
    }

    /** Forgets the launch just begun (it failed to launch, so its stop event is never recorded). */
    void dropLast() {
        Pending p = pending.remove(pending.size() - 1);
        cuEventDestroy(p.start);
        cuEventDestroy(p.stop);
    }

    private static CUevent event() {
        CUevent e = new CUevent();
        CudaException.check(cuEventCreate(e, CUevent_flags.CU_EVENT_DEFAULT), "cuEventCreate(profile)");
        return e;
    }

    /** Adds every recorded launch to the totals; call after the device (or every profiled stream) is synchronized. */
    public void drain() {
        float[] ms = new float[1];
        for (Pending p : pending) {
            CudaException.check(cuEventElapsedTime(ms, p.start, p.stop), "cuEventElapsedTime(profile " + p.kernel + ")");
            double[] t = totals.computeIfAbsent(p.kernel, k -> new double[2]);
            t[0] += 1;
            t[1] += ms[0];
            cuEventDestroy(p.start);
            cuEventDestroy(p.stop);
        }
        pending.clear();
    }

    /** The totals so far, largest GPU time first. */
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        totals.forEach((k, t) -> out.add(new Entry(k, (long) t[0], t[1])));
        out.sort((a, b) -> Double.compare(b.millis, a.millis));
        return out;
    }

    /** Sum of every kernel's GPU time (ms). */
    public double totalMillis() { return totals.values().stream().mapToDouble(t -> t[1]).sum(); }
}
