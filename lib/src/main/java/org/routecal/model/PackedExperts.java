package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import org.routecal.model.family.ExpertLayout;
import org.routecal.model.family.MoeFamily;

/**
 * One layer's packed experts (GPT-OSS, Llama 4: all experts in one 3-D {@code gate_up_proj} and {@code down_proj})
 * as the per-expert 2-D Linear weights [out, in] they are quantized and exported as (a constant transform at load,
 * STYLE H3). Transformers computes {@code x @ gate_up_proj[e]} on the [experts, in, out] layout and then takes gate
 * and up as the even and odd outputs (GPT-OSS, {@code gate_up[..., ::2]}) or the first and second half (Llama 4,
 * {@code chunk(2)}); the slices here are the Linear weights that give the same outputs.
 */
public final class PackedExperts {
    public enum Projection { GATE, UP, DOWN }

    /** Where a per-expert Linear lives in the packed tensors: layer, expert, projection. */
    public record Slice(int layer, int expert, Projection projection) {}

    private final ExpertLayout layout;
    private final int hidden, inter;
    private final TensorSource src;
    private final String gateUpName, downName;   // as stored: [E, H, 2I] and [E, I, H] when transposed
    private final float[] gateUpBias, downBias;  // [E, 2I], [E, H]; null without biases

    private PackedExperts(ModelConfig c, TensorSource src, int layer) {
        MoeFamily f = c.family();
        if (!f.experts().packed3d()) throw new IllegalArgumentException(f.name() + " does not pack its experts");
        this.layout = f.experts();
        this.hidden = c.hiddenSize();
        this.inter = c.expertIntermediateSize();
        this.src = src;
        MoeFamily.Tensors n = f.tensors();
        this.gateUpName = MoeFamily.name(n.expertGateUp(), layer, 0);
        this.downName = MoeFamily.name(n.expertDown(), layer, 0);
        // the biases are small ([E, 2I], [E, H]); the weights are read one expert at a time (a whole GPT-OSS-120b
        // gate_up is 2.1 G floats: 8.5 GB decoded, at Java's array limit)
        this.gateUpBias = layout.bias() ? src.readFloat(MoeFamily.name(n.expertGateUpBias(), layer, 0)) : null;
        this.downBias = layout.bias() ? src.readFloat(MoeFamily.name(n.expertDownBias(), layer, 0)) : null;
    }

    /** Layer {@code layer}'s packed experts: biases read now, each expert's weights when asked for. */
    public static PackedExperts of(ModelConfig c, TensorSource src, int layer) { return new PackedExperts(c, src, layer); }

    /** Index in the fused gate/up output of gate (or up) row {@code i}. */
    private int fusedRow(Projection p, int i) {
        boolean gate = p == Projection.GATE;
        return layout.gateUp() == ExpertLayout.GateUp.INTERLEAVED ? 2 * i + (gate ? 0 : 1) : (gate ? 0 : inter) + i;
    }

    /** Expert {@code e}'s projection as a Linear weight [out, in]: gate/up [I, H], down [H, I]. */
    public float[] weight(int e, Projection p) {
        if (p == Projection.DOWN) {
            float[] down = src.readFloatLeading(downName, e, 1); // [I, H] transposed, else [H, I]
            float[] w = new float[hidden * inter];
            for (int h = 0; h < hidden; h++) {
                for (int i = 0; i < inter; i++) {
                    w[h * inter + i] = layout.transposed() ? down[i * hidden + h] : down[h * inter + i];
                }
            }
            return w;
        }
        float[] gateUp = src.readFloatLeading(gateUpName, e, 1); // [H, 2I] transposed, else [2I, H]
        float[] w = new float[inter * hidden];
        for (int i = 0; i < inter; i++) {
            int r = fusedRow(p, i);
            for (int h = 0; h < hidden; h++) {
                w[i * hidden + h] = layout.transposed() ? gateUp[h * 2 * inter + r] : gateUp[r * hidden + h];
            }
        }
        return w;
    }

    /** Expert {@code e}'s projection bias [out], or null when the family has none. */
    public float[] bias(int e, Projection p) {
        if (!layout.bias()) return null;
        if (p == Projection.DOWN) return java.util.Arrays.copyOfRange(downBias, e * hidden, (e + 1) * hidden);
        float[] b = new float[inter];
        for (int i = 0; i < inter; i++) b[i] = gateUpBias[e * 2 * inter + fusedRow(p, i)];
        return b;
    }
}
