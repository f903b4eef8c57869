package org.routecal.model.family;

/**
 * How a family stores and runs its routed experts (llm-compressor's LinearExperts2D flags, named).
 *
 * @param storage    one 2-D Linear per expert, or all experts of a layer in one 3-D tensor per projection
 * @param gateUp     gate and up as two tensors, concatenated (first half gate: Llama 4) or interleaved (even rows
 *                   gate, odd rows up: GPT-OSS) in one {@code gate_up_proj}
 * @param transposed packed tensors are stored [experts, in, out] (GPT-OSS, Llama 4) rather than [experts, out, in]
 * @param bias       projections carry biases ({@code gate_up_proj_bias}, {@code down_proj_bias})
 * @param activation the gated activation between gate/up and down
 */
public record ExpertLayout(Storage storage, GateUp gateUp, boolean transposed, boolean bias, Activation activation) {

    public enum Storage { PER_EXPERT_2D, PACKED_3D }

    public enum GateUp { SEPARATE, CONCATENATED, INTERLEAVED }

    public enum Activation {
        /** down(silu(gate) · up) */
        SILU_GLU,
        /**
         * GPT-OSS: gate clamped to ≤ limit, up to [−limit, limit], down((up + 1) · gate · sigmoid(alpha · gate)) with
         * alpha = {@link #GPT_OSS_ALPHA} and limit = the config's {@code swiglu_limit} (7.0 when absent)
         */
        CLAMPED_SWIGLU;

        /** transformers 5.17 hard-codes alpha = 1.702 in GptOssExperts. */
        public static final float GPT_OSS_ALPHA = 1.702f;
    }

    /** One [out, in] Linear per expert with separate gate/up/down (Qwen, Mixtral, OLMoE, DeepSeek, GLM). */
    public static ExpertLayout perExpert2d() {
        return new ExpertLayout(Storage.PER_EXPERT_2D, GateUp.SEPARATE, false, false, Activation.SILU_GLU);
    }

    /** All experts in one 3-D {@code gate_up_proj} and one {@code down_proj}, stored [experts, in, out]. */
    public static ExpertLayout packedTransposed(GateUp gateUp) {
        if (gateUp == GateUp.SEPARATE) throw new IllegalArgumentException("packed experts fuse gate and up");
        return new ExpertLayout(Storage.PACKED_3D, gateUp, true, false, Activation.SILU_GLU);
    }

    public ExpertLayout withBiases() { return new ExpertLayout(storage, gateUp, transposed, true, activation); }

    public ExpertLayout withActivation(Activation a) { return new ExpertLayout(storage, gateUp, transposed, bias, a); }

    public boolean packed3d() { return storage == Storage.PACKED_3D; }
}
