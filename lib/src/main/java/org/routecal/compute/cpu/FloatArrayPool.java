package org.routecal.compute.cpu;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Large float arrays of closed tensors, handed to the next allocation of the same length, zeroed on the pool's
 * threads. A forward allocates the same activations layer after layer (at Qwen3-30B-A3B geometry and 2,048 tokens
 * about 400 MB per layer, the routed gate/up output alone 100 MB): each fresh array is a humongous allocation that the
 * one allocating thread zeroes while the pool waits, and they caused about half of the G1 pauses (a one-layer
 * forward bench on 2 cores: 81-83 pauses, 41-43 with the pool, and 1.06-1.08× the tokens/s; bench/CPU-RESULTS.md). Arrays are held through soft references, so the collector takes them back before it
 * would run out of memory; at most {@link #PER_LENGTH} per length. Only the CPU backend's own arrays come here
 * ({@link CpuBackend#release}); an F32 tensor is read through a check that it is open, so a closed tensor's array
 * cannot be reached through it after it was reused.
 */
final class FloatArrayPool {
    /** Smaller arrays come from the thread's allocation buffer cheaply and are not humongous (4 MB: G1's region size of a small heap). */
    static final int MIN_FLOATS = 1 << 20;
    /** Arrays kept per length: a layer's activations of one shape rarely number more. */
    static final int PER_LENGTH = 4;
    /** Zeroed in chunks of this many floats on the pool. */
    private static final int ZERO_CHUNK = 1 << 18;

    private final Map<Integer, ArrayDeque<SoftReference<float[]>>> free = new HashMap<>();

    /** A zero-filled array of n floats: a kept one when there is one of that length, else a fresh one. */
    float[] zeroed(int n) {
        float[] a = n >= MIN_FLOATS ? take(n) : null;
        if (a == null) return new float[n];
        int chunks = (n + ZERO_CHUNK - 1) / ZERO_CHUNK;
        CpuThreads.forEach(chunks > 1 ? CpuThreads.sharedPool() : null, chunks,
                c -> Arrays.fill(a, c * ZERO_CHUNK, Math.min(n, (c + 1) * ZERO_CHUNK), 0f));
        return a;
    }

    /** An array of n floats whose contents the caller overwrites in full: a kept one (stale values) or a fresh one. */
    float[] overwritten(int n) {
        float[] a = n >= MIN_FLOATS ? take(n) : null;
        return a != null ? a : new float[n];
    }

    /** Keeps a no longer used array for the next allocation of its length (small ones and surplus are left to the GC). */
    synchronized void give(float[] a) {
        if (a.length < MIN_FLOATS) return;
        ArrayDeque<SoftReference<float[]>> q = free.computeIfAbsent(a.length, k -> new ArrayDeque<>());
        q.removeIf(r -> r.get() == null);
        if (q.size() >= PER_LENGTH) return;
        q.push(new SoftReference<>(a));
    }

    private synchronized float[] take(int n) {
        ArrayDeque<SoftReference<float[]>> q = free.get(n);
        while (q != null && !q.isEmpty()) {
            float[] a = q.pop().get();
            if (a != null) return a;
        }
        return null;
    }

    /** Bytes of the kept arrays the collector has not taken back: memory the heap can reclaim. */
    synchronized long heldBytes() {
        long live = 0;
        for (ArrayDeque<SoftReference<float[]>> q : free.values()) {
            q.removeIf(r -> r.get() == null);
            for (SoftReference<float[]> r : q) {
                float[] a = r.get();
                if (a != null) live += 4L * a.length;
            }
        }
        return live;
    }
}
