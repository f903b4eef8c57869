package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/**
 * XᵀX accumulation against the textbook triple loop in double: plain, row-selected and weighted, at sizes that are and
 * are not multiples of the tile width, more rows than one chunk, an x view at an offset, one thread and a pool, and
 * accumulation onto an existing h. The lower triangle must stay untouched.
 */
class GramKernelsTest {
    @Test
    void matchesNaiveSums() {
        ForkJoinPool pool = new ForkJoinPool(3);
        try {
            for (int n : new int[]{1, 7, 32, 33, 100, 200}) {
                for (int variant = 0; variant < 3; variant++) {
                    for (ForkJoinPool p : new ForkJoinPool[]{null, pool}) check(n, 150, variant, p);
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    private static void check(int n, int rows, int variant, ForkJoinPool pool) {
        Random r = new Random(n * 10L + variant);
        int xOff = 5;
        float[] x = new float[xOff + rows * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] w = new float[rows];
        for (int i = 0; i < rows; i++) w[i] = i % 3 == 0 ? 0f : i % 7 == 0 ? -1f : r.nextFloat();
        float[] ww = variant == 0 ? null : w;
        boolean weighted = variant == 2;
        double[] h = new double[n * n];
        for (int i = 0; i < h.length; i++) h[i] = r.nextGaussian(); // accumulate onto existing values
        double[] before = h.clone();
        GramKernels.accumulate(h, n, x, xOff, rows, ww, weighted, pool);
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                if (b < a) {
                    assertEquals(before[a * n + b], h[a * n + b], "lower triangle touched at (" + a + "," + b + ")");
                    continue;
                }
                double s = before[a * n + b];
                for (int t = 0; t < rows; t++) {
                    double c = ww == null ? 1 : (ww[t] > 0 ? (weighted ? ww[t] : 1) : 0);
                    s += c * x[xOff + t * n + a] * x[xOff + t * n + b];
                }
                assertEquals(s, h[a * n + b], 1e-9 * Math.max(1, Math.abs(s)), "n=" + n + " variant " + variant + " (" + a + "," + b + ")");
            }
        }
    }
}
