package org.routecal.compute.cpu;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Large float arrays of closed tensors, kept for the next tensor of the same length. A forward pass allocates the same
 * shapes layer after layer (hidden states, projections, routed rows, logits: 2–65 MB each at bench geometry); as fresh
 * arrays they are G1 humongous objects, and each one started a concurrent mark of the whole heap (the resident
 * weights), ~90 GC events and a warm-up of several passes while the heap grew, the forward's speed scattering by
 * ±15 % between passes. Reused, they stay in pages already touched. The CPU backend keeps one for its tensors and
 * {@link PanelMatmul} one for its packed rows of x. Arrays are held through soft references (the
 * GC clears them before it would run out of memory) and up to a byte budget; a reused array is zeroed, as
 * {@link org.routecal.compute.Backend#allocate} promises.
 */
final class HostArrayPool {
    /** Arrays below this many floats are cheap thread-local allocations; they are not pooled. */
    static final int MIN_FLOATS = 1 << 16;

    private final long budgetBytes;
    private final Map<Integer, ArrayDeque<SoftReference<float[]>>> free = new HashMap<>();
    private long pooledBytes;

    HostArrayPool(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    /** An array of exactly {@code length} floats from the pool (zeroed when asked), or null when it holds none. */
    float[] take(int length, boolean zeroed) {
        float[] a = null;
        synchronized (this) {
            ArrayDeque<SoftReference<float[]>> q = free.get(length);
            while (a == null && q != null && !q.isEmpty()) {
                a = q.pop().get();
                pooledBytes -= 4L * length; // counted while listed, whether or not the GC has cleared it
            }
        }
        if (a != null && zeroed) Arrays.fill(a, 0f);
        return a;
    }

    /** Keeps {@code a} for reuse when it is large enough and the budget allows; the caller no longer uses it. */
    void give(float[] a) {
        if (a.length < MIN_FLOATS) return;
        synchronized (this) {
            if (pooledBytes + 4L * a.length > budgetBytes) return;
            free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(new SoftReference<>(a));
            pooledBytes += 4L * a.length;
        }
    }

    synchronized long pooledBytes() { return pooledBytes; }
}
