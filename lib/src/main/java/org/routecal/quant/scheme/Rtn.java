package org.routecal.quant.scheme;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Round-to-nearest quantization: observe min/max on the weight, encode every value. */
public final class Rtn {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final float RINT = 12582912f; // 1.5 · 2^23

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

    /**
     * The rounding error RTN(w) − w, [rows, cols] row-major: for a symmetric integer scheme computed in one fused,
     * vectorised pass (no codes, no parameter objects) with exactly the float operations of {@link IntScheme#observe},
     * {@link IntScheme#encode} and {@link IntScheme#decode}, so it equals {@code quantize(…).dequantize() − w} bit for
     * bit (RtnErrorTest) at a fraction of the cost (route measures every expert of a 30B layer with it); any other
     * scheme goes through {@link #quantize}.
     */
    public static float[] error(QuantScheme scheme, float[] w, int rows, int cols) {
        float[] out = new float[rows * cols];
        if (!(scheme instanceof IntScheme s) || !s.symmetric()) {
            float[] q = quantize(scheme, w, rows, cols).dequantize();
            for (int i = 0; i < q.length; i++) out[i] = q[i] - w[i];
            return out;
        }
        int gs = s.groupSize(cols), groups = cols / gs;
        float range = s.qmax() - s.qmin(), qmin = s.qmin(), qmax = s.qmax();
        ScaleDType dtype = s.scaleDtype();
        boolean vector = dtype != ScaleDType.F16; // bf16 rounding is integer arithmetic on the bits; f16's is not
        int lanes = F.length();
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int from = r * cols + g * gs, to = from + gs, vecEnd = vector ? from + (gs / lanes) * lanes : from;
                // max(−min, max) over the group widened to include 0 = the largest |w| (0 when all are 0)
                FloatVector amax = FloatVector.zero(F);
                for (int i = from; i < vecEnd; i += lanes) amax = amax.max(FloatVector.fromArray(F, w, i).abs());
                float absMax = amax.reduceLanes(VectorOperators.MAX);
                for (int i = vecEnd; i < to; i++) absMax = Math.max(absMax, Math.abs(w[i]));
                float scale = absMax / (range / 2f);
                if (scale == 0f) scale = Math.ulp(1f);
                scale = dtype.round(scale);
                for (int i = from; i < vecEnd; i += lanes) {
                    FloatVector x = FloatVector.fromArray(F, w, i);
                    FloatVector v = x.div(scale).max(qmin).min(qmax);
                    // round half to even to an integer: |v| ≤ 2^(bits−1) < 2^22, where adding 1.5·2^23 leaves no
                    // fraction bits and the float addition rounds exactly as Math.rint
                    v = v.add(RINT).sub(RINT);
                    FloatVector q = v.mul(scale);
                    if (dtype == ScaleDType.BF16) { // FloatFormats.roundBf16 on the bits (the values are finite)
                        IntVector bits = q.reinterpretAsInts();
                        bits = bits.add(bits.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7FFF)).and(0xFFFF0000);
                        q = bits.reinterpretAsFloats();
                    }
                    q.sub(x).intoArray(out, i);
                }
                for (int i = vecEnd; i < to; i++) {
                    float v = w[i] / scale + 0;
                    v = Math.max(qmin, Math.min(qmax, v));
                    out[i] = dtype.round((int) Math.rint(v) * scale) - w[i];
                }
            }
        }
        return out;
    }
}
