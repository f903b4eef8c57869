package org.routecal.model;

import org.routecal.compute.ExpertGroups;
import org.routecal.compute.Tensor;

/**
 * Named taps on the forward pass (STYLE H3): route/ (routing capture), quant/ (Hessians) and the parity tests observe
 * the same engine through these. Every tensor is on the model's backend and owned by the forward pass: valid only
 * during the call; download or reduce what you keep (on a GPU, reduce on the device and download results only).
 * Rows are the batch's tokens, sequences concatenated in order. All methods default to no-op.
 */
public interface ForwardTaps {
    ForwardTaps NONE = new ForwardTaps() {};

    /**
     * Router result of one MoE layer for all tokens of a batch, with the block input that was routed.
     * @param x       [tokens, hidden] F32 the block input (post-attention norm): the routed experts' gate/up input
     * @param ids     [tokens, topK] I32 chosen experts by descending choice score
     * @param weights [tokens, topK] F32 routing weights as the block combines them
     * @param logits  [tokens, experts] F32 router logits
     */
    default void routing(int layer, Activations batch, Tensor x, Tensor ids, Tensor weights, Tensor logits) {}

    /**
     * The routed experts of one MoE layer as the forward ran them, rows in slot order (sorted by expert): a pass that
     * measures the experts (route's RTN-error sensitivity) reads these instead of running them a second time.
     * @param groups  the batch's routed slots grouped by expert (offsets, sorted tokens)
     * @param inputs  the experts' input rows (the block input gathered by token, or Llama 4's weight-scaled rows)
     * @param gateUp  [slots, 2·I] F32 gate/up outputs, biases added
     * @param act     [slots, I] F32 the gated activation: the down projection's input
     * @param out     [slots, H] F32 down outputs, bias added, before the routing weights combine them
     */
    default void routedExperts(int layer, Activations batch, ExpertGroups groups, ExpertInputs inputs, Tensor gateUp, Tensor act,
                               Tensor out) {}

    /** Post-attention-norm input of the MoE or dense MLP block: x [tokens, hidden]; the routed experts' gate/up input. */
    default void blockInput(int layer, Activations batch, Tensor x) {}

    /**
     * The input rows of Linear modules that see every token with weight 1 (attention projections, dense MLP, shared
     * expert, router), named as HF names them; modules reading the same input come in one call. x [tokens, in].
     */
    default void linearInput(int layer, Activations batch, String[] modules, Tensor x) {}

    /** Residual stream after layer {@code layer}: h [tokens, hidden]. */
    default void layerOutput(int layer, Activations batch, Tensor h) {}
}
