package org.routecal.compute.cpu;

import java.util.concurrent.ForkJoinPool;

/**
 * Symmetric rank-k updates in double precision: the Hessian XᵀX of GPTQ ({@link #accumulate}) and the trailing update
 * of the blocked Cholesky ({@link #syrkUpper}). Only the upper triangle is computed and written.
 *
 * <p>Loop order: C is cut into column stripes of {@link DoubleTiles#WIDTH}; a stripe's slice of A (k rows × WIDTH
 * doubles, 16 KB at k = 64 and 512-bit vectors) stays in L1 while the row strips i ≤ stripe end walk down it, each
 * reading only a few doubles of A per row (the broadcasts). Stripes are the parallel tasks, the longest first.
 */
public final class GramKernels {
    /** Rows of X gathered per update: C is read and written once per chunk, so its traffic is amortised over 64 rows. */
    static final int CHUNK = 64;

    private GramKernels() {}

    /**
     * h [n, n] upper triangle += Σ_r c_r · x_rᵀ x_r over the rows r of x ([rows, n] from xOff), in double precision,
     * allocating h when null. Without a weight array c = 1; with one, rows with weight ≤ 0 (or NaN) are skipped and
     * c_r = rowWeight[r] when {@code weighted}, else 1. The lower triangle is not touched. On the shared pool.
     */
    public static double[] accumulate(double[] h, int n, float[] x, int xOff, int rows, float[] rowWeight, boolean weighted) {
        return accumulate(h, n, x, xOff, rows, rowWeight, weighted, CpuThreads.sharedPool());
    }

    /** As above on the given pool (null: the calling thread). */
    public static double[] accumulate(double[] h, int n, float[] x, int xOff, int rows, float[] rowWeight, boolean weighted,
                                      ForkJoinPool pool) {
        if (h == null) h = new double[n * n];
        if (h.length < n * n) throw new IllegalArgumentException("h has " + h.length + " entries, need " + n + "²");
        if (xOff < 0 || (long) xOff + (long) rows * n > x.length) {
            throw new IllegalArgumentException("x too short: offset " + xOff + " + " + rows + "×" + n + " > " + x.length);
        }
        int ld = roundUp(n, DoubleTiles.WIDTH);
        // [≤ CHUNK, ld] selected rows scaled by √c (so the product carries c once); columns [n, ld) stay 0. Sized to
        // the call: the stage calls this per expert batch, often with a handful of routed rows
        double[] a = new double[Math.min(CHUNK, Math.max(rows, 1)) * ld];
        for (int r = 0; r < rows; ) {
            int m = 0;
            for (; r < rows && m < CHUNK; r++) {
                double scale = 1;
                if (rowWeight != null) {
                    if (!(rowWeight[r] > 0f)) continue;
                    if (weighted) scale = Math.sqrt(rowWeight[r]);
                }
                int src = xOff + r * n, dst = m * ld;
                for (int j = 0; j < n; j++) a[dst + j] = scale * x[src + j];
                m++;
            }
            if (m > 0) syrkUpper(h, 0, n, n, a, 0, ld, m, 1.0, pool);
        }
        return h;
    }

    /**
     * C[i, j] += sign · Σ_{p < k} A[p, i]·A[p, j] for 0 ≤ i ≤ j < n, with C at c[cOff + i·ldc + j] and A at
     * a[aOff + p·lda + j]. A must be readable (and zero or ignorable) up to column roundUp(n, WIDTH) in every row.
     */
    static void syrkUpper(double[] c, int cOff, int ldc, int n, double[] a, int aOff, int lda, int k, double sign,
                          ForkJoinPool pool) {
        int width = DoubleTiles.WIDTH, rowsPerTile = DoubleTiles.ROWS;
        int stripes = (n + width - 1) / width;
        long macs = (long) n * n / 2 * k;
        ForkJoinPool p = macs < (1L << 18) ? null : pool;
        CpuThreads.forEach(p, stripes, task -> {
            int j0 = (stripes - 1 - task) * width; // longest stripes first
            double[] tmp = new double[DoubleTiles.D.length()];
            int iEnd = Math.min(n, j0 + width);
            for (int i0 = 0; i0 < iEnd; i0 += rowsPerTile) {
                boolean mask = i0 + rowsPerTile > j0 || j0 + width > n;
                DoubleTiles.tile(a, aOff + i0, 1, lda, a, aOff + j0, lda, k, c, cOff, ldc, sign, i0, j0, n, mask, tmp);
            }
        });
    }

    static int roundUp(int a, int m) {
        return (a + m - 1) / m * m;
    }
}
