package org.routecal.model;

import org.routecal.model.family.ModelConfig;

/**
 * Rotary position embedding frequencies: pair i of a head's rotated dimensions turns by position · invFreq[i] (which
 * dimensions form pair i, rotate-half or interleaved, is the rope op's flag). Frequencies follow HF's rope_type
 * variants over the rotated width {@code dim} (head_dim × partial_rotary_factor; MLA's qk_rope_head_dim); cos/sin are
 * computed in float32 like transformers (the angle is a float32 product, then cos/sin).
 */
public final class Rope {
    private final float[] invFreq;        // [dim / 2]
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

    /** transformers' _compute_yarn_parameters: the ramp between interpolated and extrapolated frequencies, and the cos/sin factor. */
    private static float yarn(double[] inv, ModelConfig.Rope r, int dim) {
        double base = r.theta(), factor = r.factor(), maxPos = r.originalMaxPositions();
        double low = correctionDim(r.betaFast(), dim, base, maxPos), high = correctionDim(r.betaSlow(), dim, base, maxPos);
        if (r.truncate()) { // GPT-OSS sets truncate = false and keeps the fractional range
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001;
        for (int i = 0; i < inv.length; i++) {
            double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
            double extrapolationFactor = 1 - ramp;
            double extrapolated = inv[i], interpolated = inv[i] / factor;
            inv[i] = interpolated * (1 - extrapolationFactor) + extrapolated * extrapolationFactor;
        }
        if (r.attentionFactor() != null) return (float) (double) r.attentionFactor();
        Double mscale = r.mscale(), all = r.mscaleAllDim();
        if (mscale != null && mscale != 0 && all != null && all != 0) return (float) (mscale(factor, mscale) / mscale(factor, all));
        return (float) mscale(factor, 1);
    }

    /** YaRN's get_mscale: 0.1 · m · ln(scale) + 1 for scale &gt; 1, else 1. */
    private static double mscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }

    private static double correctionDim(double rotations, int dim, double base, double maxPos) {
        return dim * Math.log(maxPos / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    /** Inverse frequencies [headDim / 2]: pair i rotates by position · invFreq[i]. */
    public float[] invFreq() { return invFreq.clone(); }

    /** The factor YaRN applies to cos and sin (1 elsewhere). */
    public float attentionScaling() { return attentionScaling; }
}
