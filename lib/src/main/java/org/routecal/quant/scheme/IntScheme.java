package org.routecal.quant.scheme;

/**
 * Integer weights (w4a16, w8a16): range [-2^(b-1), 2^(b-1)-1], min/max widened to include 0; symmetric scale =
 * absmax / (range/2) (absmax/7.5 for int4), asymmetric scale = (max-min)/range with zero point
 * round(clamp(qmin - min/scale)). Codes are round-half-to-even of clamp(x/scale + zp).
 *
 * @param bits       2..8
 * @param symmetric  no zero point when true
 * @param groupSize  input columns per scale group; 0 = one scale per output channel
 * @param scaleDtype the dtype the scales are stored in (the weight's dtype)
 */
public record IntScheme(int bits, boolean symmetric, int groupSize, ScaleDType scaleDtype) implements QuantScheme {
    public IntScheme {
        if (bits < 2 || bits > 8) throw new IllegalArgumentException("int bits must be 2..8, got " + bits);
        if (groupSize < 0) throw new IllegalArgumentException("group size must be ≥ 0, got " + groupSize);
    }

    public int qmin() {
        return -(1 << (bits - 1));
    }

    public int qmax() {
        return (1 << (bits - 1)) - 1;
    }

    @Override
    public String name() {
        return "w" + bits + "a16";
    }

    @Override
    public int groupSize(int cols) {
        return groupSize == 0 ? cols : groupSize;
    }

    @Override
    public boolean hasZeroPoint() {
        return !symmetric;
    }

    @Override
    public QuantParams observe(float[] w, int rows, int cols, float ignoredGlobalScale) {
        int gs = groupSize(cols);
        int groups = cols / gs;
        float range = qmax() - qmin();
        float[] scales = new float[rows * groups];
        int[] zeros = symmetric ? null : new int[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                float min = 0f, max = 0f; // widened to include 0: zero must be exactly representable
                for (int c = g * gs, end = c + gs; c < end; c++) {
                    float v = w[r * cols + c];
                    if (v < min) min = v;
                    if (v > max) max = v;
                }
                float scale;
                if (symmetric) {
                    scale = Math.max(-min, max) / (range / 2f);
                } else {
                    scale = (max - min) / range;
                    float zp = qmin() - min / scale;
                    // all-zero group: 0/0 is NaN; any zero point reproduces zero exactly, keep 0
                    zeros[r * groups + g] = Float.isNaN(zp) ? 0 : (int) Math.rint(Math.max(qmin(), Math.min(qmax(), zp)));
                }
                if (scale == 0f) scale = Math.ulp(1f); // float32 eps, as compressed-tensors avoids division by 0
                scales[r * groups + g] = scaleDtype.round(scale);
            }
        }
        return new QuantParams(scales, zeros, rows, groups, Float.NaN);
    }

    @Override
    public int encode(float x, float scale, int zero) {
        float v = x / scale + zero;
        v = Math.max(qmin(), Math.min(qmax(), v));
        return (int) Math.rint(v);
    }

    @Override
    public float decode(int code, float scale, int zero) {
        return scaleDtype.round((code - zero) * scale);
    }
}
