package org.routecal.compute.cpu;

/**
 * C = A·Wᵀ in double on {@link DoubleTiles}: A [rows, depth] double, W [out, depth] float (a weight in HF layout),
 * C [rows, out]. For exact-arithmetic references that run whole products (AWQ's MoE-block loss evaluates every routed
 * token's MLP at each grid point). Computed as Cᵀ = W·Aᵀ: Aᵀ (small: an expert's few routed tokens) is packed once,
 * and W is widened a block of rows × one k-slice at a time into a buffer that stays in L2 while every column block of
 * Aᵀ passes under it (the Aᵀ slice, KC × WIDTH doubles, 32 KB, from L1). Each entry sums its k-slices in order, each
 * slice in k order, so the result is that of the A-broadcast form bit for bit. One thread; callers run independent
 * products in parallel.
 */
public final class DoubleMatmul {
    /** Depth per slice: B's slice of one column block (KC × WIDTH doubles) is 32 KB, an L1's worth. */
    static final int KC = Math.max(1, 4096 / DoubleTiles.WIDTH);
    /** W rows widened per block: OUT_BLOCK × KC doubles (128 KB) stay in L2 across Aᵀ's column blocks. */
    static final int OUT_BLOCK = Math.max(DoubleTiles.ROWS, (16384 / KC) / DoubleTiles.ROWS * DoubleTiles.ROWS);

    private DoubleMatmul() {}

    /**
     * A·Wᵀ as a new [rows, out] array. W is read in place, a block at a time: widening it whole into a transposed
     * double copy took most of the time at an expert's 16 tokens (12.6 MB written per 768 × 2048 weight for 25 M
     * multiply-adds).
     */
    public static double[] timesTransposed(double[] a, int rows, int depth, float[] w, int out) {
        if (rows < 0 || depth < 0 || out < 0) throw new IllegalArgumentException("negative shape " + rows + "×" + depth + "→" + out);
        if (a.length < (long) rows * depth || w.length < (long) out * depth) throw new IllegalArgumentException("A or W shorter than " + rows + "×" + depth + ", " + out + "×" + depth);
        double[] c = new double[rows * out];
        if (rows == 0 || out == 0 || depth == 0) return c;
        final int width = DoubleTiles.WIDTH, tileRows = DoubleTiles.ROWS;
        int rowsPad = ceilDiv(rows, width) * width, outPad = ceilDiv(out, tileRows) * tileRows;
        double[] at = new double[depth * rowsPad]; // Aᵀ [depth, rowsPad], zero columns past rows
        for (int r = 0; r < rows; r++) for (int p = 0, src = r * depth; p < depth; p++) at[p * rowsPad + r] = a[src + p];
        double[] ct = new double[outPad * rowsPad], tmp = new double[DoubleTiles.D.length()];  // Cᵀ [outPad, rowsPad]
        double[] wb = new double[Math.min(outPad, OUT_BLOCK) * KC];                           // [block rows][kc]
        for (int p0 = 0; p0 < depth; p0 += KC) {
            int kc = Math.min(KC, depth - p0);
            for (int o0 = 0; o0 < outPad; o0 += OUT_BLOCK) {
                int o1 = Math.min(outPad, o0 + OUT_BLOCK);
                for (int o = o0; o < o1; o++) { // this block's W rows, this slice, widened (zero rows past out)
                    int dst = (o - o0) * kc;
                    if (o < out) for (int p = 0, src = o * depth + p0; p < kc; p++) wb[dst + p] = w[src + p];
                    else java.util.Arrays.fill(wb, dst, dst + kc, 0);
                }
                for (int j0 = 0; j0 < rowsPad; j0 += width) {
                    for (int i0 = o0; i0 < o1; i0 += tileRows) {
                        DoubleTiles.tile(wb, (i0 - o0) * kc, kc, 1, at, p0 * rowsPad + j0, rowsPad, kc, ct, 0, rowsPad, 1.0, i0, j0, 0, false, tmp);
                    }
                }
            }
        }
        for (int o = 0; o < out; o++) for (int r = 0; r < rows; r++) c[r * out + o] = ct[o * rowsPad + r];
        return c;
    }

    /**
     * A·B as a new [rowsPad, nPad] array, all of them padded: A [rowsPad, depth] with rowsPad a multiple of
     * {@link DoubleTiles#ROWS}, B [depth, nPad] with nPad a multiple of {@link DoubleTiles#WIDTH}.
     */
    static double[] timesPadded(double[] a, int rowsPad, int depth, double[] b, int nPad) {
        final int width = DoubleTiles.WIDTH, tileRows = DoubleTiles.ROWS;
        double[] c = new double[rowsPad * nPad], tmp = new double[DoubleTiles.D.length()];
        for (int j0 = 0; j0 < nPad; j0 += width) {
            for (int p0 = 0; p0 < depth; p0 += KC) {
                int kc = Math.min(KC, depth - p0);
                for (int i0 = 0; i0 < rowsPad; i0 += tileRows) {
                    DoubleTiles.tile(a, i0 * depth + p0, depth, 1, b, p0 * nPad + j0, nPad, kc, c, 0, nPad, 1.0, i0, j0, 0, false, tmp);
                }
            }
        }
        return c;
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
