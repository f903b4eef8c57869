package org.routecal.quant;

import java.util.List;
import org.routecal.RoutecalException;
import org.routecal.model.Activations;
import org.routecal.model.MoeModel;
import org.routecal.quant.awq.AwqLoss;

/**
 * AWQ's loss for the input_layernorm → q/k/v mapping, whose parent is the attention block (llm-compressor runs
 * {@code self_attn} on its cached inputs): the model's own attention, run on a sample batch with the candidate q/k/v
 * weights put into the model, against its output with the original weights; mean squared difference per element of
 * the attention block's output (o_proj's, unquantized during the search). Written against the model's forward pass,
 * so it runs on whatever backend the model has. {@link #close} puts the original weights back.
 */
final class AttentionOutputLoss implements AwqLoss, AutoCloseable {
    private final MoeModel model;
    private final int layer;
    private final Activations sample;
    private final List<String> tensors;   // q/k/v weight tensor names, in balance order
    private final List<float[]> originals;
    private final float[] reference;      // [tokens, hidden] the residual stream after attention, original weights

    /**
     * @param sample    a batch of whole sequences at this layer's input (not modified)
     * @param tensors   the balances' weight tensor names
     * @param originals their original values, in the same order
     */
    AttentionOutputLoss(MoeModel model, int layer, Activations sample, List<String> tensors, List<float[]> originals) {
        this.model = model;
        this.layer = layer;
        this.sample = sample;
        this.tensors = List.copyOf(tensors);
        this.originals = List.copyOf(originals);
        this.reference = run();
    }

    private float[] run() {
        try (Activations a = QuantizeStage.copy(model, sample)) {
            model.attention(layer, a);
            return model.backend().download(a.hidden);
        }
    }

    @Override
    public double loss(List<float[]> weights) {
        for (int i = 0; i < tensors.size(); i++) model.overrideWeight(tensors.get(i), weights.get(i));
        float[] out = run();
        double s = 0;
        for (int i = 0; i < out.length; i++) {
            double d = (double) out[i] - reference[i];
            s += d * d;
        }
        if (!Double.isFinite(s)) throw new RoutecalException("AWQ layer " + layer + ": the attention output is not finite for a candidate scale");
        return s / out.length;
    }

    @Override
    public void close() {
        for (int i = 0; i < tensors.size(); i++) model.overrideWeight(tensors.get(i), originals.get(i));
    }
}
