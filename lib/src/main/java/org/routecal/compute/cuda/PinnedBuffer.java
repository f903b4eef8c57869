package org.routecal.compute.cuda;

import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemHostAlloc;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;

/**
 * Page-locked host memory: the staging area between a memory-mapped checkpoint and the device. Copies from pinned
 * memory run asynchronously on a stream at full PCIe speed; copies from pageable (mmap) memory would not overlap with
 * compute. Fill it through {@link #buffer()} (a direct little-endian ByteBuffer over the pinned bytes).
 */
public final class PinnedBuffer implements AutoCloseable {
    private final Pointer host = new Pointer();
    private final long bytes;
    private final ByteBuffer view;
    private boolean freed;

    public PinnedBuffer(CudaContext ctx, long bytes) {
        if (bytes > Integer.MAX_VALUE) throw new IllegalArgumentException("pinned staging buffers are limited to 2 GiB, asked " + bytes);
        ctx.makeCurrent();
        CudaException.check(cuMemHostAlloc(host, Math.max(1, bytes), 0), "cuMemHostAlloc(" + bytes + " bytes)");
        this.bytes = bytes;
        this.view = host.getByteBuffer(0, bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    public long bytes() { return bytes; }

    /** A fresh ByteBuffer view (position 0, limit = size) over the pinned memory. */
    public ByteBuffer buffer() { return view.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear(); }

    /** Queues a copy of {@code length} bytes at {@code hostOffset} to {@code dst + dstOffset} on {@code stream}. */
    public void copyToDeviceAsync(long hostOffset, DeviceBuffer dst, long dstOffset, long length, CudaStream stream) {
        if (hostOffset + length > bytes || dstOffset + length > dst.bytes()) {
            throw new IllegalArgumentException("async copy of " + length + " bytes overruns the staging buffer or " + dst.name());
        }
        CudaException.check(cuMemcpyHtoDAsync(dst.pointer().withByteOffset(dstOffset), host.withByteOffset(hostOffset), length,
                stream.handle()), "cuMemcpyHtoDAsync(→" + dst.name() + ")");
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            cuMemFreeHost(host);
        }
    }
}
