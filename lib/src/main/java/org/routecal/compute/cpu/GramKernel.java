package org.routecal.compute.cpu;

/**
 * h += alpha · Σ_r c_r · x_r x_rᵀ in double (the CPU Hessian, STYLE H4's reference for hessian.cu), through an index
 * of rows and per-row weights: the rows are gathered {@link GramKernels#CHUNK} at a time, scaled by √(alpha·c), and
 * the upper triangle is updated by {@link GramKernels#syrkUpper} (Vector API tiles), then mirrored once.
 */
final class GramKernel {
    private GramKernel() {}

    /**
     * @param h      [k, k] at {@code hOff}, accumulated (both triangles)
     * @param x      rows of k floats
     * @param index  row r of the index space reads x row index[r] (null: row r)
     * @param weight c_r per index-space row (null: 1); rows with c_r ≤ 0 (or NaN) are skipped
     */
    static void accumulate(double[] h, int hOff, int k, float[] x, int[] index, float[] weight, int from, int to, float alpha) {
        int ld = GramKernels.roundUp(k, DoubleTiles.WIDTH);
        double[] rows = new double[Math.min(GramKernels.CHUNK, Math.max(to - from, 1)) * ld]; // columns [k, ld) stay 0
        double[] upper = new double[k * k];
        int r = from;
        while (r < to) {
            int m = 0;
            for (; r < to && m < GramKernels.CHUNK; r++) {
                double c = alpha;
                if (weight != null) {
                    if (!(weight[r] > 0f)) continue;
                    c *= weight[r];
                }
                double s = Math.sqrt(c);
                int xb = (index == null ? r : index[r]) * k, dst = m * ld;
                for (int a = 0; a < k; a++) rows[dst + a] = s * x[xb + a];
                m++;
            }
            if (m > 0) GramKernels.syrkUpper(upper, 0, k, k, rows, 0, ld, m, 1.0, CpuThreads.sharedPool());
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
