package org.routecal.model;

/**
 * Rotary position embedding, "rotate half" (NeoX) layout as every supported family uses: for pair i of a head,
 * (x[i], x[i + d/2]) rotates by angle position · invFreq[i]. Frequencies follow HF's rope_type variants; cos/sin are
 * computed in float32 like transformers (the angle is a float32 product, then cos/sin).
 */
public final class Rope {
        private final float[] invFreq;        // [headDim / 2]
    private final float attentionScaling; // yarn multiplies cos and sin by this

    public Rope(ModelConfig.Rope rope, int headDim) {
        int half = headDim / 2;
        double[] base = new double[half];
        for (int i = 0; i < half; i++) base[i] = (float) (1.0 / Math.pow(rope.theta(), (2.0 * i) / headDim));
        float scaling = 1f;
        switch (rope.type()) {
            case "default", "dynamic" -> { /* dynamic NTK only changes beyond the original context: prefill here stays within it */ }
            case "linear" -> { for (int i = 0; i < half; i++) base[i] /= rope.factor(); }
            case "llama3" -> llama3(base, rope);
            case "yarn" -> scaling = yarn(base, rope, headDim);
            default -> throw new IllegalArgumentException("rope_type " + rope.type());
        }
        this.invFreq = new float[half];
        for (int i = 0; i < half; i++) invFreq[i] = (float) base[i];
        this.attentionScaling = scaling;
    }

    private static void llama3(double[] inv, ModelConfig.Rope r) {
        double oldCtx = r.originalMaxPositions(), lowWave = oldCtx / r.lowFreqFactor(), highWave = oldCtx / r.highFreqFactor();
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            double scaled = wavelen > lowWave ? inv[i] / r.factor() : inv[i];
            boolean medium = !(wavelen < highWave) && !(wavelen > lowWave);
            if (medium) {
                double smooth = (oldCtx / wavelen - r.lowFreqFactor()) / (r.highFreqFactor() - r.lowFreqFactor());
                scaled = (1 - smooth) * scaled / r.factor() + smooth * scaled;
            }
            inv[i] = scaled;
        }
    }

    private static float yarn(double[] inv, ModelConfig.Rope r, int dim) {
        double base = r.theta(), factor = r.factor(), maxPos = r.originalMaxPositions();
        double low = Math.max(0, Math.floor(correctionDim(r.betaFast(), dim, base, maxPos)));
        double high = Math.min(dim - 1, Math.ceil(correctionDim(r.betaSlow(), dim, base, maxPos)));
        if (low == high) high += 0.001;
        for (int i = 0; i < inv.length; i++) {
            double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
            double extrapolationFactor = 1 - ramp;
            double extrapolated = inv[i], interpolated = inv[i] / factor;
            inv[i] = interpolated * (1 - extrapolationFactor) + extrapolated * extrapolationFactor;
        }
        if (r.attentionFactor() != null) return (float) (double) r.attentionFactor();
        return factor <= 1 ? 1f : (float) (0.1 * Math.log(factor) + 1.0);
    }

    private static double correctionDim(double rotations, int dim, double base, double maxPos) {
        return dim * Math.log(maxPos / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    /** Inverse frequencies [headDim / 2]: pair i rotates by position · invFreq[i]. */
    public float[] invFreq() { return invFreq.clone(); }

    /** The factor YaRN applies to cos and sin (1 elsewhere). */
    public float attentionScaling() { return attentionScaling; }
}
