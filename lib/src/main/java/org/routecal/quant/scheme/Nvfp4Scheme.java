package org.routecal.quant.scheme;

/**
 * NVFP4: E2M1 values in groups of 16 input columns, each group scale an FP8 E4M3 value that already includes an
 * FP32 global scale. The global scale is a divisor, {@code gs = 448·6 / amax(|W|)}; group scale
 * {@code E4M3(gs · amax_g / 6)}; a value is {@code E2M1(x / (scale_g / gs))}. Fused projections (gate/up, q/k/v)
 * must share gs: pass the smallest of their own divisors to {@link #observe(float[], int, int, float)}.
 * Dequantized values are rounded to {@code valueDtype} (the model's dtype), as compressed-tensors' decompressor
 * returns them in BF16; GPTQ runs with F32.
 *
 * @param valueDtype dtype of dequantized values
 */
public record Nvfp4Scheme(ScaleDType valueDtype) implements QuantScheme {
    public static final int GROUP_SIZE = 16;
    /** compressed-tensors' replacement for a zero FP8 scale (its "eps" for float8_e4m3fn). */
    private static final float FP8_SCALE_EPS = 0.125f;

    /** Dequantized values kept in float32. */
    public Nvfp4Scheme() {
        this(ScaleDType.F32);
    }

    @Override
    public String name() {
        return "nvfp4";
    }

    @Override
    public int groupSize(int cols) {
        return GROUP_SIZE;
    }

    /** The global-scale divisor for a tensor whose largest magnitude is {@code amax}: 448·6/amax, 1 if not finite. */
    public static float globalScale(float amax) {
        float gs = FloatFormats.E4M3_MAX * FloatFormats.E2M1_MAX / amax;
        return Float.isFinite(gs) ? gs : 1f;
    }

    /** Largest magnitude of a weight, for {@link #globalScale}. */
    public static float amax(float[] w) {
        float m = 0f;
        for (float v : w) m = Math.max(m, Math.abs(v));
        return m;
    }

    @Override
    public QuantParams observe(float[] w, int rows, int cols, float globalScale) {
        float gs = Float.isNaN(globalScale) ? globalScale(amax(w)) : globalScale;
        int groups = cols / GROUP_SIZE;
        float[] scales = new float[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                float amax = 0f;
                for (int c = g * GROUP_SIZE, end = c + GROUP_SIZE; c < end; c++) amax = Math.max(amax, Math.abs(w[r * cols + c]));
                float s = gs * (amax / FloatFormats.E2M1_MAX);
                s = FloatFormats.roundE4m3(Math.max(-FloatFormats.E4M3_MAX, Math.min(FloatFormats.E4M3_MAX, s)));
                scales[r * groups + g] = s == 0f ? FP8_SCALE_EPS : s;
            }
        }
        return new QuantParams(scales, null, rows, groups, gs);
    }

    @Override
    public int encode(float x, float effectiveScale, int zero) {
        float v = Math.max(-FloatFormats.E2M1_MAX, Math.min(FloatFormats.E2M1_MAX, x / effectiveScale));
        return FloatFormats.encodeE2m1(v);
    }

    @Override
    public float decode(int code, float effectiveScale, int zero) {
        return valueDtype.round(FloatFormats.decodeE2m1(code) * effectiveScale);
    }
}
