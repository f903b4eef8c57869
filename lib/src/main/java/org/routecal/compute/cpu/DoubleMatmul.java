package org.routecal.compute.cpu;

/**
 * C = A·Wᵀ in double on {@link DoubleTiles}: A [rows, depth] double, W [out, depth] float (a weight in HF layout),
 * C [rows, out]. For exact-arithmetic references that run whole products (AWQ's MoE-block loss evaluates every routed
 * token's MLP at each grid point): Wᵀ is widened into zero-padded rows of whole tile widths, and the depth is cut into
 * slices whose Wᵀ block (KC × WIDTH doubles, 32 KB) stays in L1 while every row tile passes over it. One thread;
 * callers run independent products in parallel.
 */
public final class DoubleMatmul {
    /** Depth per slice: B's slice of one column block (KC × WIDTH doubles) is 32 KB, an L1's worth. */
    static final int KC = Math.max(1, 4096 / DoubleTiles.WIDTH);

    private DoubleMatmul() {}

    /** A·Wᵀ as a new [rows, out] array. */
    public static double[] timesTransposed(double[] a, int rows, int depth, float[] w, int out) {
        if (rows < 0 || depth < 0 || out < 0) throw new IllegalArgumentException("negative shape " + rows + "×" + depth + "→" + out);
        if (a.length < (long) rows * depth || w.length < (long) out * depth) throw new IllegalArgumentException("A or W shorter than " + rows + "×" + depth + ", " + out + "×" + depth);
        double[] c = new double[rows * out];
        if (rows == 0 || out == 0 || depth == 0) return c;
        final int width = DoubleTiles.WIDTH, tileRows = DoubleTiles.ROWS;
        int outPad = ceilDiv(out, width) * width, rowsPad = ceilDiv(rows, tileRows) * tileRows;
        double[] wt = new double[depth * outPad]; // Wᵀ [depth, outPad]
        for (int o = 0; o < out; o++) for (int p = 0; p < depth; p++) wt[p * outPad + o] = w[o * depth + p];
        double[] ap = a;
        if (rowsPad != rows) { // the last row tile reads whole tiles: zero rows below
            ap = new double[rowsPad * depth];
            System.arraycopy(a, 0, ap, 0, rows * depth);
        }
        double[] cp = timesPadded(ap, rowsPad, depth, wt, outPad);
        for (int r = 0; r < rows; r++) System.arraycopy(cp, r * outPad, c, r * out, out);
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
