package org.routecal.compute.cpu;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * h += alpha · Σ_r c_r · x_r x_rᵀ in double (the CPU Hessian, STYLE H4's reference for hessian.cu). Rows are taken
 * CHUNK at a time and transposed, so each entry of h is read and written once per chunk (a dot product of two
 * contiguous columns) instead of once per row; the upper triangle is computed and mirrored.
 */
final class GramKernel {
    private static final int CHUNK = 64;

    private GramKernel() {}

    /**
     * @param h      [k, k] at {@code hOff}, accumulated
     * @param x      rows of k floats
     * @param index  row r of the index space reads x row index[r] (null: row r)
     * @param weight c_r per index-space row (null: 1); rows with c_r ≤ 0 are skipped
     */
    static void accumulate(double[] h, int hOff, int k, float[] x, int[] index, float[] weight, int from, int to, float alpha) {
        double[] xt = new double[k * CHUNK]; // [k, CHUNK] selected rows, transposed, scaled by sqrt(alpha·c)
        double[] upper = new double[k * k];
        int r = from;
        while (r < to) {
            int m = 0;
            Arrays.fill(xt, 0.0);
            for (; r < to && m < CHUNK; r++) {
                double c = alpha;
                if (weight != null) {
                    if (!(weight[r] > 0f)) continue;
                    c *= weight[r];
                }
                double s = Math.sqrt(c);
                int xb = (index == null ? r : index[r]) * k;
                for (int a = 0; a < k; a++) xt[a * CHUNK + m] = s * x[xb + a];
                m++;
            }
            if (m == 0) break;
            IntStream.range(0, k).parallel().forEach(a -> {
                int ab = a * CHUNK;
                for (int b = a; b < k; b++) {
                    int bb = b * CHUNK;
                    double s = 0;
                    for (int j = 0; j < CHUNK; j++) s += xt[ab + j] * xt[bb + j];
                    upper[a * k + b] += s;
                }
            });
        }
        for (int a = 0; a < k; a++) {
            for (int b = a; b < k; b++) {
                double v = upper[a * k + b];
                h[hOff + a * k + b] += v;
                if (b != a) h[hOff + b * k + a] += v;
            }
        }
    }
}
