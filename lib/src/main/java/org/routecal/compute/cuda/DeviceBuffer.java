package org.routecal.compute.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD8;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * A block of device memory of a known size. The copy helpers are synchronous and bounds-checked (a too-large host
 * array is a Java-side error naming the buffer, not a device fault). Views ({@link #slice}) share the allocation and
 * are not freed on their own.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CUdeviceptr ptr;
    private final long bytes;
    private final String name;
    private final boolean owner;
    private boolean freed;

    private DeviceBuffer(CUdeviceptr ptr, long bytes, String name, boolean owner) {
        this.ptr = ptr;
        this.bytes = bytes;
        this.name = name;
        this.owner = owner;
    }

    /** Allocates {@code bytes} (at least 1) of device memory; {@code name} appears in error messages. */
    public static DeviceBuffer allocate(CudaContext ctx, long bytes, String name) {
        ctx.makeCurrent();
        CUdeviceptr p = new CUdeviceptr();
        CudaException.check(cuMemAlloc(p, Math.max(1, bytes)), "cuMemAlloc(" + name + ", " + bytes + " bytes)");
        return new DeviceBuffer(p, bytes, name, true);
    }

    public static DeviceBuffer of(CudaContext ctx, float[] host, String name) {
        DeviceBuffer b = allocate(ctx, 4L * host.length, name);
        b.upload(host);
        return b;
    }

    public static DeviceBuffer of(CudaContext ctx, int[] host, String name) {
        DeviceBuffer b = allocate(ctx, 4L * host.length, name);
        b.upload(host);
        return b;
    }

    /** Uploads bf16 bit patterns ({@code short} per element). */
    public static DeviceBuffer ofBf16(CudaContext ctx, short[] host, String name) {
        DeviceBuffer b = allocate(ctx, 2L * host.length, name);
        CudaException.check(cuMemcpyHtoD(b.ptr, Pointer.to(host), 2L * host.length), "cuMemcpyHtoD(" + name + ")");
        return b;
    }

    /** A view of {@code length} bytes starting at {@code offset}; 256-byte aligned offsets keep kernels' 16-byte loads aligned. */
    public DeviceBuffer slice(long offset, long length, String viewName) {
        if (offset < 0 || length < 0 || offset + length > bytes) {
            throw new IllegalArgumentException(viewName + ": slice [" + offset + ", " + (offset + length) + ") outside " + name + " of " + bytes + " bytes");
        }
        return new DeviceBuffer(ptr.withByteOffset(offset), length, viewName, false);
    }

    public CUdeviceptr pointer() { return ptr; }

    public long bytes() { return bytes; }

    public String name() { return name; }

    public void upload(float[] host) {
        requireFits(4L * host.length);
        CudaException.check(cuMemcpyHtoD(ptr, Pointer.to(host), 4L * host.length), "cuMemcpyHtoD(" + name + ")");
    }

    public void upload(int[] host) {
        requireFits(4L * host.length);
        CudaException.check(cuMemcpyHtoD(ptr, Pointer.to(host), 4L * host.length), "cuMemcpyHtoD(" + name + ")");
    }

    public float[] downloadFloats(int count) {
        requireFits(4L * count);
        float[] out = new float[count];
        CudaException.check(cuMemcpyDtoH(Pointer.to(out), ptr, 4L * count), "cuMemcpyDtoH(" + name + ")");
        return out;
    }

    public int[] downloadInts(int count) {
        requireFits(4L * count);
        int[] out = new int[count];
        CudaException.check(cuMemcpyDtoH(Pointer.to(out), ptr, 4L * count), "cuMemcpyDtoH(" + name + ")");
        return out;
    }

    public byte[] downloadBytes(int count) {
        requireFits(count);
        byte[] out = new byte[count];
        CudaException.check(cuMemcpyDtoH(Pointer.to(out), ptr, count), "cuMemcpyDtoH(" + name + ")");
        return out;
    }

    /** Fills the buffer with zero bytes. */
    public void zero() { CudaException.check(cuMemsetD8(ptr, (byte) 0, bytes), "cuMemsetD8(" + name + ")"); }

    /** Queues a zero fill on {@code stream} (null: the legacy default stream), ordered with that stream's kernels. */
    public void zero(CudaStream stream) {
        CudaException.check(cuMemsetD8Async(ptr, (byte) 0, bytes, stream != null ? stream.handle() : null), "cuMemsetD8Async(" + name + ")");
    }

    private void requireFits(long n) {
        if (n > bytes) throw new IllegalArgumentException(name + ": " + n + " bytes requested, buffer holds " + bytes);
    }

    @Override
    public void close() {
        if (owner && !freed) {
            freed = true;
            cuMemFree(ptr);
        }
    }
}
