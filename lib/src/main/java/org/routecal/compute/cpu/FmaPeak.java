package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures the machine's float32 FMA peak per core as the Vector API sees it: 8 independent accumulator chains (enough
 * to cover FMA latency × throughput on current x86 cores), no memory traffic. The matmul benchmark reports its
 * GFLOP/s against this number.
 */
public final class FmaPeak {
    /** A static final species, as in VectorOps: C2 only intrinsifies calls on a constant species. */
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private FmaPeak() {}

    /** GFLOP/s of one thread (2 FLOPs per lane per FMA), best of {@code repeats} runs of ~0.2 s. */
    public static double singleThreadGflops(int repeats) {
        VectorSpecies<Float> s = S;
        // warm-up: short runs until C2 has compiled the loop (a first long run would be timed in the interpreter or
        // in the Vector API's Java fallback, which a loaded machine's starved JIT threads can stretch to whole runs)
        float warm = 0;
        for (int i = 0; i < 200; i++) warm += chains(100_000);
        if (warm == 42f) System.out.print("");
        double best = 0;
        for (int r = 0; r < repeats; r++) {
            long iters = 20_000_000;
            long t0 = System.nanoTime();
            float sink = chains(iters);
            long t1 = System.nanoTime();
            if (sink == 42f) System.out.print(""); // keep the result alive
            double flops = 2.0 * 8 * s.length() * iters;
            best = Math.max(best, flops / (t1 - t0));
        }
        return best;
    }

    /**
     * GFLOP/s of {@code threads} threads running the FMA chains at once, best of {@code repeats}: the peak at that core
     * count, where all-core vector clocks sit below one core's (a single-thread peak × threads overstates it).
     */
    public static double allThreadsGflops(int threads, int repeats) {
        singleThreadGflops(1); // compiled before the threads start
        double best = 0;
        long iters = 20_000_000;
        for (int r = 0; r < repeats; r++) {
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
            Thread[] ts = new Thread[threads];
            long[] nanos = new long[threads];
            for (int t = 0; t < threads; t++) {
                int id = t;
                ts[t] = new Thread(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    long t0 = System.nanoTime();
                    float sink = chains(iters);
                    nanos[id] = System.nanoTime() - t0;
                    if (sink == 42f) System.out.print("");
                });
                ts[t].start();
            }
            double sum = 0;
            for (int t = 0; t < threads; t++) {
                try {
                    ts[t].join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                sum += 2.0 * 8 * S.length() * iters / nanos[t];
            }
            best = Math.max(best, sum);
        }
        return best;
    }

    private static float chains(long iters) {
        VectorSpecies<Float> s = S;
        FloatVector m = FloatVector.broadcast(s, 0.999999f), a = FloatVector.broadcast(s, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(s, 1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (long i = 0; i < iters; i++) {
            c0 = c0.fma(m, a); c1 = c1.fma(m, a); c2 = c2.fma(m, a); c3 = c3.fma(m, a);
            c4 = c4.fma(m, a); c5 = c5.fma(m, a); c6 = c6.fma(m, a); c7 = c7.fma(m, a);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).reduceLanes(VectorOperators.ADD);
    }

    public static int vectorBits() { return FloatVector.SPECIES_PREFERRED.vectorBitSize(); }
}
