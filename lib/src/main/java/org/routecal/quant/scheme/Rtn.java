package org.routecal.quant.scheme;

/** Round-to-nearest quantization: observe min/max on the weight, encode every value. */
public final class Rtn {
    private Rtn() {}

    /** RTN of {@code w} ([rows, cols] row-major) with the scheme's own parameters. */
    public static QuantizedWeight quantize(QuantScheme scheme, float[] w, int rows, int cols) {
        return quantize(scheme, w, rows, cols, Float.NaN);
    }

    /** RTN with a given NVFP4 global scale (NaN: the weight's own). */
    public static QuantizedWeight quantize(QuantScheme scheme, float[] w, int rows, int cols, float globalScale) {
        QuantParams p = scheme.observe(w, rows, cols, globalScale);
        int gs = scheme.groupSize(cols);
        int[] codes = new int[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int g = c / gs;
                codes[r * cols + c] = scheme.encode(w[r * cols + c], p.effectiveScale(r, g), p.zero(r, g));
            }
        }
        return new QuantizedWeight(scheme, rows, cols, codes, p, gs, null);
    }
}
