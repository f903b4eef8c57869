package org.routecal.model.family;

/**
 * The always-on expert some families add to the routed ones.
 *
 * @param gate  none (no shared expert); its output scaled by sigmoid(shared_expert_gate(x)) (Qwen2-MoE); or added
 *              as it is (DeepSeek-V3, GLM-4.5, Llama 4)
 * @param width where its intermediate width comes from
 */
public record SharedExpert(Gate gate, Width width) {

    public enum Gate { NONE, SIGMOID, UNGATED }

    public enum Width {
        NONE,
        /** {@code shared_expert_intermediate_size} (Qwen2-MoE) */
        SHARED_EXPERT_INTERMEDIATE_SIZE,
        /** {@code moe_intermediate_size × n_shared_experts}: the shared experts fused into one MLP (DeepSeek, GLM) */
        EXPERT_WIDTH_TIMES_N_SHARED,
        /** the routed experts' width (Llama 4's shared expert uses {@code intermediate_size}, as its experts do) */
        EXPERT_WIDTH
    }

    public static SharedExpert none() { return new SharedExpert(Gate.NONE, Width.NONE); }

    public static SharedExpert sigmoidGated() { return new SharedExpert(Gate.SIGMOID, Width.SHARED_EXPERT_INTERMEDIATE_SIZE); }

    public static SharedExpert nSharedExperts() { return new SharedExpert(Gate.UNGATED, Width.EXPERT_WIDTH_TIMES_N_SHARED); }

    public static SharedExpert ungatedExpertWidth() { return new SharedExpert(Gate.UNGATED, Width.EXPERT_WIDTH); }

    public boolean present() { return gate != Gate.NONE; }
}
