package org.routecal.model;

/**
 * Named taps on the forward pass (STYLE H3): route/ (routing capture), quant/ (Hessians) and the parity tests observe
 * the same engine through these. All methods default to no-op. Token index = row of {@link Activations} (sequences
 * concatenated in order). Arrays passed in are owned by the forward pass: copy what you keep.
 */
public interface ForwardTaps {
    ForwardTaps NONE = new ForwardTaps() {};

    /**
     * Router result of one MoE layer for all tokens.
     * @param topkIds      [tokens, topK] chosen experts by descending weight
     * @param topkWeights  [tokens, topK] routing weights as the block combines them
     * @param routerLogits [tokens, experts]
     */
    default void routing(int layer, int tokens, int topK, int[] topkIds, float[] topkWeights, float[] routerLogits) {}

    /** Post-attention-norm input of an MoE (or dense MLP) block: x [tokens, hidden]. */
    default void blockInput(int layer, int tokens, int hidden, float[] x) {}

    /**
     * Input rows of one Linear module, named as HF names the module (e.g. "model.layers.3.mlp.experts.5.down_proj").
     * @param x          [rows, inFeatures] row-major
     * @param tokenIndex [rows] the token each row came from
     * @param rowWeight  [rows] routing weight of that token for this expert (0 when not routed: ALL mode); 1 for
     *                   modules outside the routed experts
     * @param allTokens  true when the rows are all tokens (ALL mode, or a non-expert module), false for routed only
     */
    default void linearInput(String module, int rows, int inFeatures, float[] x, int[] tokenIndex, float[] rowWeight,
                             boolean allTokens) {}

    /** Residual stream after layer {@code layer}: h [tokens, hidden]. */
    default void layerOutput(int layer, int tokens, int hidden, float[] h) {}
}
