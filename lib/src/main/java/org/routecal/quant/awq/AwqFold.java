package org.routecal.quant.awq;

/**
 * Applying AWQ scales (llm-compressor's {@code _smooth}): the balance layers' columns are multiplied by s and the
 * layer that produced the activation is divided by s, so the unquantized model computes the same function. Also the
 * Hessian in the smoothed coordinates, for GPTQ after AWQ. Pure functions; results are rounded to float32 as the
 * reference stores them (float32 · float64 → float32).
 */
public final class AwqFold {
    private AwqFold() {}

    /** W·diag(s): [rows, cols] row-major, a new array. */
    public static float[] scaleColumns(float[] w, int rows, int cols, double[] s) {
        check(cols, s);
        float[] out = new float[w.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r * cols + c] = (float) (w[r * cols + c] * s[c]);
        return out;
    }

    /**
     * A norm's per-channel multiplier divided by s (RMSNorm γ / s). Families whose norm stores γ−1 (Gemma's 1+w) must
     * fold that into γ first, where the model loads it.
     */
    public static float[] divideNorm(float[] gamma, double[] s) {
        check(gamma.length, s);
        float[] out = new float[gamma.length];
        for (int c = 0; c < gamma.length; c++) out[c] = (float) (gamma[c] / s[c]);
        return out;
    }

    /**
     * A Linear smooth layer (up_proj before down_proj): its last {@code s.length} output rows divided by s — the last
     * rows, as the reference does for a fused qkv_proj smoothing o_proj; all rows in the usual case.
     *
     * @param w [rows, cols] row-major; a new array is returned
     */
    public static float[] divideRows(float[] w, int rows, int cols, double[] s) {
        if (s.length > rows) throw new IllegalArgumentException("scales " + s.length + " > output rows " + rows);
        float[] out = w.clone();
        int first = rows - s.length;
        for (int r = first; r < rows; r++) {
            double d = s[r - first];
            for (int c = 0; c < cols; c++) out[r * cols + c] = (float) (w[r * cols + c] / d);
        }
        return out;
    }

    /** The smooth layer's bias [rows], its last {@code s.length} entries divided by s; a new array. */
    public static float[] divideBias(float[] bias, double[] s) {
        if (s.length > bias.length) throw new IllegalArgumentException("scales " + s.length + " > bias length " + bias.length);
        float[] out = bias.clone();
        int first = bias.length - s.length;
        for (int r = first; r < bias.length; r++) out[r] = (float) (bias[r] / s[r - first]);
        return out;
    }

    /**
     * The Hessian of the smoothed inputs x/s from that of x: H' = S⁻¹·H·S⁻¹ ([n, n] row-major, a new array). GPTQ on
     * the scaled weights W·S must use H'; with H (llm-compressor accumulates it in the same pass, before smoothing) it
     * weights column errors by s_i·s_j too much.
     */
    public static double[] smoothedHessian(double[] h, int n, double[] s) {
        check(n, s);
        double[] out = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) out[i * n + j] = h[i * n + j] / (s[i] * s[j]);
        return out;
    }

    private static void check(int n, double[] s) {
        if (s.length != n) throw new IllegalArgumentException("scales have " + s.length + " entries, expected " + n);
    }
}
