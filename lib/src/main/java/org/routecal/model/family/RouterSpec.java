package org.routecal.model.family;

import org.routecal.compute.RouterRule;

/**
 * The router part of a family table: which {@link RouterRule} the config resolves to, and whether the router Linear
 * has a bias on its logits (GPT-OSS). The score-correction bias of sigmoid routing is part of the rule, not of the
 * logits; its tensor name is {@link MoeFamily.Tensors#routerScoreCorrectionBias}.
 */
public record RouterSpec(Kind kind, boolean logitBias) {

    public enum Kind {
        /** softmax, top-k, renormalized when the config's {@code norm_topk_prob} is true (default false) */
        SOFTMAX_TOPK_NORM_FROM_CONFIG,
        /** softmax, top-k, always renormalized (Mixtral; GPT-OSS's softmax over the top-k logits) */
        SOFTMAX_TOPK_NORMALIZED,
        /** sigmoid + e_score_correction_bias + n_group/topk_group + norm_topk_prob + routed_scaling_factor */
        SIGMOID_GROUPED,
        /** top-k logits, sigmoid weights multiplying the expert input (Llama 4) */
        SIGMOID_TOPK_ON_INPUT
    }

    public static RouterSpec softmaxTopKNormFromConfig() { return new RouterSpec(Kind.SOFTMAX_TOPK_NORM_FROM_CONFIG, false); }

    public static RouterSpec softmaxTopKNormalized() { return new RouterSpec(Kind.SOFTMAX_TOPK_NORMALIZED, false); }

    public static RouterSpec sigmoidGrouped() { return new RouterSpec(Kind.SIGMOID_GROUPED, false); }

    public static RouterSpec sigmoidTopKOnInput() { return new RouterSpec(Kind.SIGMOID_TOPK_ON_INPUT, false); }

    public RouterSpec withLogitBias() { return new RouterSpec(kind, true); }

    /** The rule for one model. */
    public RouterRule rule(ModelConfig c) {
        return switch (kind) {
            case SOFTMAX_TOPK_NORM_FROM_CONFIG -> RouterRule.softmaxTopK(c.expertUsedCount(), c.normTopKProb());
            case SOFTMAX_TOPK_NORMALIZED -> RouterRule.softmaxTopK(c.expertUsedCount(), true);
            case SIGMOID_GROUPED -> RouterRule.sigmoidGroupedTopK(c.expertUsedCount(), c.expertGroupCount(),
                    c.expertGroupUsedCount(), c.normTopKProb(), c.routedScalingFactor());
            case SIGMOID_TOPK_ON_INPUT -> RouterRule.sigmoidTopKOnInput(c.expertUsedCount());
        };
    }
}
