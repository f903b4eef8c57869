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

    /**
     * The same trace with H given by its rows, H = Σ_t c_t x_tᵀx_t: Σ_r Σ_t c_t (d_r·x_t)², D·Xᵀ on double tiles
     * ({@link DoubleMatmul}) in row blocks summed in index order. rows·cols·n multiply-adds where the Gram form takes
     * rows·cols²: the cheaper one while n < cols (an expert's few routed tokens). x [n, cols] row-major, c [n] or null
     * (all 1).
     */
    public static double traceOfDifference(float[] a, float[] b, int rows, int cols, float[] x, int n, float[] c, ForkJoinPool pool) {
        if (rows < 0 || cols < 0 || n < 0) throw new IllegalArgumentException("negative shape " + rows + "×" + cols + ", " + n + " rows of x");
        if (a.length < (long) rows * cols || b.length < (long) rows * cols) throw new IllegalArgumentException("A or B shorter than " + rows + "×" + cols);
        if (x.length < (long) n * cols) throw new IllegalArgumentException("x shorter than " + n + "×" + cols);
        if (c != null && c.length < n) throw new IllegalArgumentException("c shorter than " + n);
        if (rows == 0 || cols == 0 || n == 0) return 0;
        return CpuThreads.sum(pool, ceilDiv(rows, TASK_ROWS), t -> {
            int r0 = t * TASK_ROWS, nr = Math.min(TASK_ROWS, rows - r0);
            double[] d = new double[nr * cols];
            for (int i = 0, at = r0 * cols; i < nr * cols; i++, at++) d[i] = (double) a[at] - b[at];
            double[] dx = DoubleMatmul.timesTransposed(d, nr, cols, x, n); // [nr, n]
            double s = 0;
            for (int i = 0; i < nr; i++) for (int k = 0; k < n; k++) s += (c == null ? 1 : c[k]) * dx[i * n + k] * dx[i * n + k];
            return s;
        });
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
