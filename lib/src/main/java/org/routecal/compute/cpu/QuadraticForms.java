package org.routecal.compute.cpu;

import java.util.concurrent.ForkJoinPool;

/**
 * tr(D·H·Dᵀ) = Σ_r d_r·H·d_rᵀ with D = A − B [rows, cols] (float inputs, double arithmetic) and H [cols, cols]
 * symmetric, double: the layer-output error of a weight change under an input Gram matrix (AWQ's loss, the bit
 * allocation's output error). Computed as (D·H) ⊙ D, D·H by {@link DoubleMatmul} (tiles that read a slice of a
 * column block of H from L1 while every row tile of a task's block passes over it), instead of one scalar dot of H's
 * row with d per input (a scalar reduction the JIT cannot vectorize). Tasks are fixed row blocks summed in index order ({@link CpuThreads#sum}), so
 * the result is the same on any number of threads.
 */
public final class QuadraticForms {
    /** Rows per task: their D block (rows × cols doubles, 512 KB at cols 2048) stays in L2 across H's column blocks. */
    static final int TASK_ROWS = 32;

    private QuadraticForms() {}

    /** tr((A − B)·H·(A − B)ᵀ); a, b [rows, cols] row-major, h [cols, cols] row-major and symmetric. */
    public static double traceOfDifference(float[] a, float[] b, int rows, int cols, double[] h, ForkJoinPool pool) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape " + rows + "×" + cols);
        if (a.length < (long) rows * cols || b.length < (long) rows * cols) throw new IllegalArgumentException("A or B shorter than " + rows + "×" + cols);
        if (h.length < (long) cols * cols) throw new IllegalArgumentException("H shorter than " + cols + "×" + cols);
        if (rows == 0 || cols == 0) return 0;
        final int tileRows = DoubleTiles.ROWS;
        final int colsPad = ceilDiv(cols, DoubleTiles.WIDTH) * DoubleTiles.WIDTH;
        // H with rows padded to whole tile widths (zeros beyond cols), as the tile reads B: width values per p
        double[] hp = new double[cols * colsPad];
        for (int p = 0; p < cols; p++) System.arraycopy(h, p * cols, hp, p * colsPad, cols);
        int tasks = ceilDiv(rows, TASK_ROWS);
        return CpuThreads.sum(pool, tasks, t -> {
            int r0 = t * TASK_ROWS, n = Math.min(TASK_ROWS, rows - r0), nPad = ceilDiv(n, tileRows) * tileRows;
            double[] d = new double[nPad * cols]; // this block's D, zero rows padding the last tile
            for (int i = 0, at = r0 * cols; i < n * cols; i++, at++) d[i] = (double) a[at] - b[at];
            double[] dh = DoubleMatmul.timesPadded(d, nPad, cols, hp, colsPad); // [nPad, colsPad]
            double s = 0;
            for (int i = 0; i < n; i++) for (int q = 0; q < cols; q++) s += dh[i * colsPad + q] * d[i * cols + q];
            return s;
        });
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
