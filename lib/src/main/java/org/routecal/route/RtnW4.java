package org.routecal.route;

/**
 * Round-to-nearest 4-bit symmetric quantization with one scale per group of input columns, as ModelOpt's INT4
 * blockwise default that the reference calibrates with: scale = max|w| / 7 over the group (float32),
 * q = clamp(rint(w / scale), −8, 7), ŵ = q · scale. A final group narrower than {@code group} gets its own scale.
 * Pure math; used only to measure sensitivity (quant/ owns the real quantizers).
 */
public final class RtnW4 {
    private RtnW4() {}

    /** The quantization error ŵ − w. // w, result: [rows, cols] row-major */
    public static float[] error(float[] w, int rows, int cols, int group) {
        float[] d = new float[w.length];
        for (int r = 0; r < rows; r++) {
            for (int g0 = 0; g0 < cols; g0 += group) {
                int base = r * cols + g0, len = Math.min(group, cols - g0);
                float amax = 0;
                for (int i = 0; i < len; i++) amax = Math.max(amax, Math.abs(w[base + i]));
                float scale = amax / 7f;
                for (int i = 0; i < len; i++) {
                    float v = w[base + i];
                    float q = scale == 0 ? 0 : Math.max(-8f, Math.min(7f, (float) Math.rint(v / scale)));
                    d[base + i] = q * scale - v;
                }
            }
        }
        return d;
    }
}
