package org.routecal.compute;

/**
 * How a router turns logits into the chosen experts and their weights (STYLE H2): a typed value, built through named
 * factories, resolved per model from its family and config.
 *
 * @param scoring            softmax over all experts, or an independent sigmoid per expert (DeepSeek-V3, GLM-4.5,
 *                           Llama 4)
 * @param topK               experts chosen per token
 * @param normalizeTopK      divide the chosen weights by their sum
 * @param routedScalingFactor multiplies the final weights (DeepSeek-V3: routed_scaling_factor; 1 elsewhere)
 * @param scoreCorrectionBias true when a per-expert bias (e_score_correction_bias) is added to the scores for the
 *                           choice only, not for the weights (DeepSeek-V3)
 * @param groupCount         experts are split into this many groups (n_group); 1 = no grouping
 * @param topKGroups         groups kept per token (topk_group), ranked by the sum of their top-2 scores (DeepSeek-V3)
 * @param weightTarget       where the weight is applied: to each chosen expert's output (everyone), or to its input
 *                           before the (non-linear) expert runs (Llama 4)
 */
public record RouterRule(Scoring scoring, int topK, boolean normalizeTopK, float routedScalingFactor,
                         boolean scoreCorrectionBias, int groupCount, int topKGroups, WeightTarget weightTarget) {

    public enum Scoring { SOFTMAX, SIGMOID }

    public enum WeightTarget { EXPERT_OUTPUT, EXPERT_INPUT }

    public RouterRule {
        if (topK < 1) throw new IllegalArgumentException("topK must be >= 1, got " + topK);
        if (groupCount < 1 || topKGroups < 1 || topKGroups > groupCount) {
            throw new IllegalArgumentException("invalid groups: n_group=" + groupCount + ", topk_group=" + topKGroups);
        }
    }

    /**
     * Softmax over all experts, then top-k (Qwen2/3-MoE, OLMoE with normalize from config; Mixtral always normalizes).
     * GPT-OSS takes the top-k logits first and softmaxes over those k: the same weights as softmax → top-k →
     * renormalize (the full softmax's denominator cancels), so it is this rule with normalize on.
     */
    public static RouterRule softmaxTopK(int topK, boolean normalizeTopK) {
        return new RouterRule(Scoring.SOFTMAX, topK, normalizeTopK, 1f, false, 1, 1, WeightTarget.EXPERT_OUTPUT);
    }

    /** DeepSeek-V3 / GLM-4.5: sigmoid scores, bias-corrected grouped choice, weights from the uncorrected scores. */
    public static RouterRule sigmoidGroupedTopK(int topK, int groupCount, int topKGroups, boolean normalizeTopK, float scaling) {
        return new RouterRule(Scoring.SIGMOID, topK, normalizeTopK, scaling, true, groupCount, topKGroups, WeightTarget.EXPERT_OUTPUT);
    }

    /**
     * Llama 4: top-k of the logits, each chosen logit's sigmoid (not renormalized) multiplies the expert's input. The
     * choice on logits equals the choice on sigmoids (sigmoid is monotonic).
     */
    public static RouterRule sigmoidTopKOnInput(int topK) {
        return new RouterRule(Scoring.SIGMOID, topK, false, 1f, false, 1, 1, WeightTarget.EXPERT_INPUT);
    }
}
