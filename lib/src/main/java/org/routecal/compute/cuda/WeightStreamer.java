package org.routecal.compute.cuda;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Streams one decoder layer's weights at a time from host memory (typically memory-mapped safetensors slices) to the
 * GPU, so a model larger than GPU memory runs layer by layer while the next layer's copy overlaps the current layer's
 * compute.
 *
 * <p>Mechanics: two device slots, each as large as the largest layer; a background thread copies a layer's bytes
 * chunk by chunk from the source into one of two pinned staging buffers and queues an async host→device copy on a
 * dedicated copy stream (the host memcpy into staging buffer i waits only for the previous async copy out of i). When
 * the layer is complete an event is recorded on the copy stream; {@link #acquire} makes the compute stream wait on it
 * (no host blocking), and {@link #release} records on the compute stream when the slot may be overwritten, which the
 * copy stream waits on before refilling that slot.
 *
 * <p>Use strictly in order: {@code acquire(L)} (which also starts prefetching L+1), compute on the compute stream,
 * {@code release(L)}, then {@code acquire(L+1)}. Tensor offsets inside a slot are 256-byte aligned.
 */
public final class WeightStreamer implements AutoCloseable {
    /** Supplies the host bytes of one layer's tensors, e.g. slices of a memory-mapped checkpoint. */
    public interface LayerSource {
        List<HostTensor> tensors(int layer);
    }

    /** Raw bytes of one tensor as stored (bf16 weights stay bf16); the buffer's position..limit is copied. */
    public record HostTensor(String name, ByteBuffer data) {}

    /** A layer resident on the device: tensor name → view into the slot. */
    public record LayerOnDevice(int layer, int slot, Map<String, DeviceBuffer> tensors) {
        public DeviceBuffer get(String name) {
            DeviceBuffer b = tensors.get(name);
            if (b == null) throw new CudaException("layer " + layer + " has no streamed tensor " + name + " (have " + tensors.keySet() + ")");
            return b;
        }
    }

    private static final long ALIGN = 256;
    private final CudaContext ctx;
    private final LayerSource source;
    private final int layers;
    private final CudaStream compute;
    private final CudaStream copy;
    private final DeviceBuffer[] slots = new DeviceBuffer[2];
    private final PinnedBuffer[] staging = new PinnedBuffer[2];
    private final CudaStream.Event[] stagingFree = new CudaStream.Event[2];
    private final boolean[] stagingUsed = new boolean[2];
    private final CudaStream.Event[] slotReady = new CudaStream.Event[2];
    private final CudaStream.Event[] slotFree = new CudaStream.Event[2];
    private final boolean[] slotFreeRecorded = new boolean[2];
    private final int[] slotLayer = {-1, -1};
    private final boolean[] slotHeld = new boolean[2];
    @SuppressWarnings("unchecked")
    private final Future<Map<String, DeviceBuffer>>[] pending = new Future[2];
    private final ExecutorService worker;
    private int nextStaging;
    private volatile long bytesCopied;  // written by the copy thread only

    /**
     * @param stagingBytes size of each of the two pinned staging buffers (e.g. 64 MiB); larger tensors are copied in chunks
     */
    public WeightStreamer(CudaContext ctx, LayerSource source, int layers, CudaStream computeStream, long stagingBytes) {
        this.ctx = ctx;
        this.source = source;
        this.layers = layers;
        this.compute = computeStream;
        long maxLayer = 0;
        for (int l = 0; l < layers; l++) maxLayer = Math.max(maxLayer, layout(source.tensors(l)));
        this.copy = new CudaStream(ctx, "weight-copy");
        for (int i = 0; i < 2; i++) {
            slots[i] = DeviceBuffer.allocate(ctx, maxLayer, "weight slot " + i);
            staging[i] = new PinnedBuffer(ctx, stagingBytes);
            stagingFree[i] = new CudaStream.Event(false);
            slotReady[i] = new CudaStream.Event(false);
            slotFree[i] = new CudaStream.Event(false);
        }
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "routecal-weight-streamer");
            t.setDaemon(true);
            return t;
        });
    }

    private static long layout(List<HostTensor> tensors) {
        long off = 0;
        for (HostTensor t : tensors) off = align(off) + t.data().remaining();
        return off;
    }

    private static long align(long off) { return (off + ALIGN - 1) / ALIGN * ALIGN; }

    /** Device bytes per slot (the largest layer). */
    public long slotBytes() { return slots[0].bytes(); }

    /** Total bytes queued for host→device copies so far (for bandwidth figures). */
    public long bytesCopied() { return bytesCopied; }

    /** Starts copying {@code layer} into its slot if not already under way. */
    public void prefetch(int layer) {
        if (layer < 0 || layer >= layers) return;
        int s = layer % 2;
        if (slotLayer[s] == layer) return;
        if (slotHeld[s]) throw new IllegalStateException("layer " + slotLayer[s] + " still holds slot " + s + "; release it before prefetching " + layer);
        slotLayer[s] = layer;
        List<HostTensor> tensors = source.tensors(layer);
        boolean waitFree = slotFreeRecorded[s];
        pending[s] = worker.submit(() -> fill(s, tensors, waitFree));
    }

    private Map<String, DeviceBuffer> fill(int s, List<HostTensor> tensors, boolean waitFree) {
        ctx.makeCurrent();
        if (waitFree) copy.waitFor(slotFree[s]);  // GPU-side: the previous occupant's compute is done
        Map<String, DeviceBuffer> views = new LinkedHashMap<>();
        long off = 0;
        for (HostTensor t : tensors) {
            off = align(off);
            ByteBuffer src = t.data().duplicate();
            long len = src.remaining();
            views.put(t.name(), slots[s].slice(off, len, t.name()));
            long done = 0;
            while (done < len) {
                int i = nextStaging;
                nextStaging ^= 1;
                if (stagingUsed[i]) stagingFree[i].synchronize();  // host waits until the previous copy out of i finished
                ByteBuffer dst = staging[i].buffer();
                int n = (int) Math.min(dst.capacity(), len - done);
                ByteBuffer part = src.slice(src.position() + (int) done, n);
                dst.put(part);
                staging[i].copyToDeviceAsync(0, slots[s], off + done, n, copy);
                copy.record(stagingFree[i]);
                stagingUsed[i] = true;
                done += n;
            }
            off += len;
            bytesCopied += len;
        }
        copy.record(slotReady[s]);
        return views;
    }

    /**
     * Returns {@code layer}'s weights on the device; later work on the compute stream sees them complete. Also starts
     * the prefetch of {@code layer + 1}.
     */
    public LayerOnDevice acquire(int layer) {
        int s = layer % 2;
        if (slotHeld[1 - s]) {
            throw new IllegalStateException("release layer " + slotLayer[1 - s] + " before acquiring layer " + layer);
        }
        prefetch(layer);
        Map<String, DeviceBuffer> views;
        try {
            views = pending[s].get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CudaException("interrupted while streaming layer " + layer);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;
            throw new CudaException("streaming layer " + layer + " failed: " + c);
        }
        compute.waitFor(slotReady[s]);
        slotHeld[s] = true;
        prefetch(layer + 1);
        return new LayerOnDevice(layer, s, views);
    }

    /** Marks the layer's slot reusable once the compute stream's work queued so far is done. */
    public void release(LayerOnDevice l) {
        compute.record(slotFree[l.slot()]);
        slotFreeRecorded[l.slot()] = true;
        slotHeld[l.slot()] = false;
    }

    @Override
    public void close() {
        worker.shutdownNow();
        copy.synchronize();
        for (int i = 0; i < 2; i++) {
            slots[i].close();
            staging[i].close();
            stagingFree[i].close();
            slotReady[i].close();
            slotFree[i].close();
        }
        copy.close();
    }
}
