package org.routecal.compute.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reuses device allocations by exact size. cuMemAlloc and cuMemFree synchronize the device, and the forward pass asks
 * for the same shapes layer after layer, so a freed buffer goes back to a free list and the next request of its size
 * takes it: no driver call in the steady state. Reuse is safe because every op runs on one in-order stream. Free
 * buffers beyond {@link #FREE_CAP} bytes are really freed, least recently returned first; an allocation that fails
 * frees every free buffer and tries once more.
 */
final class DevicePool implements AutoCloseable {
    static final long FREE_CAP = 8L << 30;
    private final CudaContext ctx;
    private final Map<Long, ArrayDeque<DeviceBuffer>> free = new HashMap<>();
    private final LinkedHashMap<DeviceBuffer, Long> order = new LinkedHashMap<>(); // free buffers, oldest first
    private long freeBytes;

    DevicePool(CudaContext ctx) { this.ctx = ctx; }

    DeviceBuffer take(long bytes, String name) {
        long size = Math.max(1, bytes);
        ArrayDeque<DeviceBuffer> list = free.get(size);
        if (list != null && !list.isEmpty()) {
            DeviceBuffer b = list.pop();
            order.remove(b);
            freeBytes -= size;
            return b;
        }
        try {
            return DeviceBuffer.allocate(ctx, size, name);
        } catch (CudaException e) {
            if (freeBytes == 0) throw outOfMemory(name, size, e);
            trim(0);
            try {
                return DeviceBuffer.allocate(ctx, size, name);
            } catch (CudaException again) {
                throw outOfMemory(name, size, again);
            }
        }
    }

    private static CudaException outOfMemory(String name, long size, CudaException cause) {
        return new CudaException("out of GPU memory allocating " + name + " (" + size / (1 << 20) + " MiB): " + cause.getMessage()
                + "; lower --batch-tokens or the number of calibration tokens");
    }

    void give(DeviceBuffer b) {
        long size = b.bytes();
        free.computeIfAbsent(size, s -> new ArrayDeque<>()).push(b);
        order.put(b, size);
        freeBytes += size;
        trim(FREE_CAP);
    }

    long freeBytes() { return freeBytes; }

    private void trim(long cap) {
        Iterator<Map.Entry<DeviceBuffer, Long>> it = order.entrySet().iterator();
        while (freeBytes > cap && it.hasNext()) {
            Map.Entry<DeviceBuffer, Long> e = it.next();
            free.get(e.getValue()).remove(e.getKey());
            freeBytes -= e.getValue();
            e.getKey().close();
            it.remove();
        }
    }

    @Override
    public void close() { trim(0); }
}
