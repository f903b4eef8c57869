package org.routecal.quant.scheme;

/**
 * Quantization parameters of one weight, as compressed-tensors stores them.
 *
 * @param scales      stored scales, [scaleRows, groups] row-major (already rounded to the scale dtype; NVFP4: the
 *                    FP8 E4M3 value that includes the global scale)
 * @param zeros       zero points [scaleRows, groups] row-major, or null for symmetric schemes
 * @param scaleRows   rows of {@code scales}: the weight's output rows, or 1 for a per-tensor scale
 * @param groups      scale groups per row (input columns / group size; 1 for per-channel and per-tensor)
 * @param globalScale NVFP4 global scale, a divisor ({@code 448·6/amax}); NaN for schemes without one
 */
public record QuantParams(float[] scales, int[] zeros, int scaleRows, int groups, float globalScale) {
    public QuantParams {
        if (scales.length != scaleRows * groups) throw new IllegalArgumentException("scales length " + scales.length
                + " != " + scaleRows + "×" + groups);
        if (zeros != null && zeros.length != scales.length) throw new IllegalArgumentException("zeros length mismatch");
    }

    /** The scale a code is multiplied by: the stored scale, divided by the global scale when there is one. */
    public float effectiveScale(int row, int group) {
        float s = scales[(scaleRows == 1 ? 0 : row) * groups + group];
        // float32 division, as compressed-tensors' scale / global_scale (fp8 / fp32 promotes to fp32)
        return Float.isNaN(globalScale) ? s : s / globalScale;
    }

    /** Zero point of (row, group); 0 for symmetric schemes. */
    public int zero(int row, int group) {
        return zeros == null ? 0 : zeros[(scaleRows == 1 ? 0 : row) * groups + group];
    }
}
