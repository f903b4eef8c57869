package org.routecal.quant.scheme;

/**
 * FP8 E4M3 weights: scale = absmax/448 per output channel (or per tensor), value = E4M3(clamp(x/scale, ±448)).
 *
 * @param perTensor  one scale for the whole weight instead of one per output row
 * @param scaleDtype the dtype the scales are stored in
 */
public record Fp8Scheme(boolean perTensor, ScaleDType scaleDtype) implements QuantScheme {
    @Override
    public String name() {
        return "fp8";
    }

    @Override
    public int groupSize(int cols) {
        return cols;
    }

    @Override
    public QuantParams observe(float[] w, int rows, int cols, float ignoredGlobalScale) {
        int scaleRows = perTensor ? 1 : rows;
        float[] scales = new float[scaleRows];
        for (int r = 0; r < rows; r++) {
            int s = perTensor ? 0 : r;
            for (int c = 0; c < cols; c++) scales[s] = Math.max(scales[s], Math.abs(w[r * cols + c]));
        }
        for (int s = 0; s < scaleRows; s++) {
            float scale = scales[s] / FloatFormats.E4M3_MAX;
            scales[s] = scaleDtype.round(scale == 0f ? Math.ulp(1f) : scale);
        }
        return new QuantParams(scales, null, scaleRows, 1, Float.NaN);
    }

    @Override
    public int encode(float x, float scale, int zero) {
        float v = Math.max(-FloatFormats.E4M3_MAX, Math.min(FloatFormats.E4M3_MAX, x / scale));
        return FloatFormats.encodeE4m3(FloatFormats.roundE4m3(v));
    }

    @Override
    public float decode(int code, float scale, int zero) {
        return scaleDtype.round(FloatFormats.decodeE4m3(code) * scale);
    }
}
