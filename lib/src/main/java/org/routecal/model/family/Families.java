package org.routecal.model.family;

import org.routecal.RoutecalException;
import org.routecal.model.family.Attention.Bias;
import org.routecal.model.family.Attention.LayerTypes;
import org.routecal.model.family.Attention.QkNorm;
import org.routecal.model.family.Attention.Rotary;
import org.routecal.model.family.DenseLayers.Rule;
import org.routecal.model.family.ExpertLayout.GateUp;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The family table. Adding a model of a known pattern = adding an entry here (docs/howto/add-a-family.md).
 * Names were read off checkpoints that transformers 5.17's save_pretrained writes (per-expert 2-D experts where its
 * conversion mapping splits them on save; packed 3-D tensors for GPT-OSS and Llama 4, which it keeps as they are)
 * and checked against vLLM's loaders (which read the same names). The tests/fixtures/models/&lt;family&gt; checkpoints
 * prove every key is claimed.
 */
public final class Families {
    private Families() {}

    /** Config keys shared by every family: our key → HF keys in order (transformers 4 name, then 5). */
    static Map<String, List<String>> commonAliases() {
        Map<String, List<String>> m = new HashMap<>();
        for (String k : List.of("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                "head_dim", "rms_norm_eps", "intermediate_size", "num_experts_per_tok", "moe_intermediate_size",
                "shared_expert_intermediate_size", "n_shared_experts", "norm_topk_prob", "tie_word_embeddings",
                "mlp_only_layers", "decoder_sparse_step", "first_k_dense_replace", "n_group", "topk_group",
                "routed_scaling_factor", "clip_qkv", "max_position_embeddings", "use_sliding_window", "sliding_window",
                "max_window_layers", "layer_types", "use_qk_norm", "rope_interleave", "swiglu_limit", "moe_layers",
                "interleave_moe_layer_step", "no_rope_layers", "no_rope_layer_interval", "attention_chunk_size",
                "attn_temperature_tuning", "floor_scale", "attn_scale", "num_nextn_predict_layers",
                "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")) {
            m.put(k, List.of(k));
        }
        m.put("rope_theta", List.of("rope_theta", "rope_parameters.rope_theta"));
        m.put("rope_scaling", List.of("rope_scaling", "rope_parameters"));
        m.put("partial_rotary_factor", List.of("partial_rotary_factor", "rope_parameters.partial_rotary_factor"));
        m.put("num_experts", List.of("num_experts", "num_local_experts", "n_routed_experts"));
        m.put("attention_bias", List.of("attention_bias"));
        return m;
    }

    private static final String L = "model.layers.{layer}.";
    private static final String ATTN = L + "self_attn.";
    private static final String MLP = L + "mlp.";

    /** Qwen3-MoE: per-head q/k RMSNorm, softmax top-k with norm_topk_prob, no shared expert. */
    public static final MoeFamily QWEN3_MOE = MoeFamily.builder("Qwen3-MoE").modelTypes("qwen3_moe")
            .attention(Attention.gqa().withQkNorm(QkNorm.PER_HEAD).withQkvBias(Bias.FROM_CONFIG).withOutputBias(Bias.FROM_CONFIG)
                    .withLayerTypes(LayerTypes.SLIDING_WHEN_FLAG))
            .tensors(MoeFamily.Tensors.builder().llamaBackbone().gqaProjections(ATTN)
                    .qNorm(ATTN + "q_norm.weight").kNorm(ATTN + "k_norm.weight")
                    .router(MLP + "gate.weight").perExpertMlp(MLP + "experts.{expert}.").denseMlp(MLP))
            .experts(ExpertLayout.perExpert2d())
            .router(RouterSpec.softmaxTopKNormFromConfig())
            .denseLayers(DenseLayers.when(Rule.MLP_ONLY_LAYERS, Rule.DECODER_SPARSE_STEP))
            .build();

    /** Qwen2-MoE: q/k/v biases (qkv_bias, always on in transformers 4), a shared expert gated by sigmoid(shared_expert_gate(x)). */
    public static final MoeFamily QWEN2_MOE = MoeFamily.builder("Qwen2-MoE").modelTypes("qwen2_moe")
            .alias("attention_bias", "qkv_bias").configDefault("attention_bias", true)
            .attention(Attention.gqa().withQkvBias(Bias.FROM_CONFIG).withLayerTypes(LayerTypes.LAYER_TYPES_OR_WINDOW_LAYERS))
            .tensors(MoeFamily.Tensors.builder().llamaBackbone().gqaProjections(ATTN)
                    .router(MLP + "gate.weight").perExpertMlp(MLP + "experts.{expert}.")
                    .sharedMlp(MLP + "shared_expert.").sharedExpertGate(MLP + "shared_expert_gate.weight").denseMlp(MLP))
            .experts(ExpertLayout.perExpert2d())
            .router(RouterSpec.softmaxTopKNormFromConfig())
            .sharedExpert(SharedExpert.sigmoidGated())
            .denseLayers(DenseLayers.when(Rule.MLP_ONLY_LAYERS, Rule.DECODER_SPARSE_STEP))
            .build();

    /** Mixtral: block_sparse_moe with w1 (gate) / w3 (up) / w2 (down), always-normalized top-k. */
    public static final MoeFamily MIXTRAL = MoeFamily.builder("Mixtral").modelTypes("mixtral")
            .alias("moe_intermediate_size", "intermediate_size")
            .attention(Attention.gqa().withLayerTypes(LayerTypes.SLIDING_WHEN_SET))
            .tensors(MoeFamily.Tensors.builder().llamaBackbone().gqaProjections(ATTN)
                    .router(L + "block_sparse_moe.gate.weight")
                    .expertGate(L + "block_sparse_moe.experts.{expert}.w1")
                    .expertUp(L + "block_sparse_moe.experts.{expert}.w3")
                    .expertDown(L + "block_sparse_moe.experts.{expert}.w2"))
            .experts(ExpertLayout.perExpert2d())
            .router(RouterSpec.softmaxTopKNormalized())
            .build();

    /** OLMoE: q/k RMSNorm over the whole projection (before the head split), optional clip_qkv. */
    public static final MoeFamily OLMOE = MoeFamily.builder("OLMoE").modelTypes("olmoe")
            .alias("moe_intermediate_size", "intermediate_size")
            .attention(Attention.gqa().withQkNorm(QkNorm.WHOLE_PROJECTION).withQkvBias(Bias.FROM_CONFIG).withOutputBias(Bias.FROM_CONFIG))
            .tensors(MoeFamily.Tensors.builder().llamaBackbone().gqaProjections(ATTN)
                    .qNorm(ATTN + "q_norm.weight").kNorm(ATTN + "k_norm.weight")
                    .router(MLP + "gate.weight").perExpertMlp(MLP + "experts.{expert}."))
            .experts(ExpertLayout.perExpert2d())
            .router(RouterSpec.softmaxTopKNormFromConfig())
            .build();

    /**
     * DeepSeek-V3 (also R1, V3.1, Kimi K2): multi-head latent attention, sigmoid routing with a score-correction bias
     * and expert groups, shared experts fused into one MLP, dense layers before first_k_dense_replace, and MTP layers
     * after the last one.
     */
    public static final MoeFamily DEEPSEEK_V3 = MoeFamily.builder("DeepSeek-V3").modelTypes("deepseek_v3", "kimi_k2")
            .configDefault("rope_interleave", true)
            // vLLM's deepseek_v2.py creates e_score_correction_bias only for topk_method "noaux_tc" and reads
            // scoring_func (default softmax); DeepSeek's own config.json has both, transformers 5's does not
            .exportConfigDefault("scoring_func", "sigmoid").exportConfigDefault("topk_method", "noaux_tc")
            .attention(Attention.mla().withQkvBias(Bias.FROM_CONFIG).withOutputBias(Bias.FROM_CONFIG)
                    .withRotary(Rotary.INTERLEAVED_FROM_CONFIG))
            .tensors(MoeFamily.Tensors.builder().llamaBackbone()
                    .qProj(ATTN + "q_proj").qAProj(ATTN + "q_a_proj").qANorm(ATTN + "q_a_layernorm.weight").qBProj(ATTN + "q_b_proj")
                    .kvAProj(ATTN + "kv_a_proj_with_mqa").kvANorm(ATTN + "kv_a_layernorm.weight").kvBProj(ATTN + "kv_b_proj")
                    .oProj(ATTN + "o_proj")
                    .router(MLP + "gate.weight").routerScoreCorrectionBias(MLP + "gate.e_score_correction_bias")
                    .perExpertMlp(MLP + "experts.{expert}.").sharedMlp(MLP + "shared_experts.").denseMlp(MLP))
            .experts(ExpertLayout.perExpert2d())
            .router(RouterSpec.sigmoidGrouped())
            .sharedExpert(SharedExpert.nSharedExperts())
            .denseLayers(DenseLayers.when(Rule.FIRST_K_DENSE_REPLACE))
            .mtpLayersAfterLast()
            .build();

    /**
     * GPT-OSS: experts packed [experts, in, out] with interleaved gate/up, biases and the clamped SwiGLU; a router
     * with a bias, softmax over the top-k logits; attention sinks, biases on q/k/v/o, sliding-window layers
     * alternating with full ones.
     */
    public static final MoeFamily GPT_OSS = MoeFamily.builder("GPT-OSS").modelTypes("gpt_oss")
            .alias("moe_intermediate_size", "intermediate_size")
            .configDefault("attention_bias", true).configDefault("rope_theta", 150000.0).configDefault("swiglu_limit", 7.0)
            .attention(Attention.gqa().withQkvBias(Bias.FROM_CONFIG).withOutputBias(Bias.FROM_CONFIG).withSinks()
                    .withLayerTypes(LayerTypes.LAYER_TYPES))
            .tensors(MoeFamily.Tensors.builder().llamaBackbone().gqaProjections(ATTN).sinks(ATTN + "sinks")
                    .router(MLP + "router.weight").routerBias(MLP + "router.bias")
                    .expertGateUp(MLP + "experts.gate_up_proj").expertGateUpBias(MLP + "experts.gate_up_proj_bias")
                    .expertDown(MLP + "experts.down_proj").expertDownBias(MLP + "experts.down_proj_bias")
                    .exportPerExpert(MLP + "experts.{expert}."))
            .experts(ExpertLayout.packedTransposed(GateUp.INTERLEAVED).withBiases().withActivation(ExpertLayout.Activation.CLAMPED_SWIGLU))
            .router(RouterSpec.softmaxTopKNormalized().withLogitBias())
            .build();

    /**
     * GLM-4.5 / 4.6: DeepSeek-V3's MoE (sigmoid routing with correction bias and groups, shared experts, dense first
     * layers, MTP layers) on GQA attention with q/k/v biases, optional per-head q/k norm and partial RoPE (half the
     * head by default).
     */
    public static final MoeFamily GLM4_MOE = MoeFamily.builder("GLM-4.5").modelTypes("glm4_moe")
            .configDefault("partial_rotary_factor", 0.5).configDefault("use_qk_norm", false)
            .attention(Attention.gqa().withQkNormFromConfig(QkNorm.PER_HEAD).withQkvBias(Bias.FROM_CONFIG))
            .tensors(MoeFamily.Tensors.builder().llamaBackbone().gqaProjections(ATTN)
                    .qNorm(ATTN + "q_norm.weight").kNorm(ATTN + "k_norm.weight")
                    .router(MLP + "gate.weight").routerScoreCorrectionBias(MLP + "gate.e_score_correction_bias")
                    .perExpertMlp(MLP + "experts.{expert}.").sharedMlp(MLP + "shared_experts.").denseMlp(MLP))
            .experts(ExpertLayout.perExpert2d())
            .router(RouterSpec.sigmoidGrouped())
            .sharedExpert(SharedExpert.nSharedExperts())
            .denseLayers(DenseLayers.when(Rule.FIRST_K_DENSE_REPLACE))
            .mtpLayersAfterLast()
            .build();

    /**
     * Llama 4 text (Scout, Maverick): top-k sigmoid routing whose weight multiplies the expert input, a shared
     * expert, experts packed [experts, in, out] with gate|up concatenated, MoE every interleave_moe_layer_step layers
     * with dense MLPs of intermediate_size_mlp between, chunked attention on RoPE layers and full attention on NoPE
     * layers, weightless q/k L2 norm, interleaved RoPE.
     */
    public static final MoeFamily LLAMA4_TEXT = MoeFamily.builder("Llama-4").modelTypes("llama4_text")
            .alias("moe_intermediate_size", "intermediate_size").alias("intermediate_size", "intermediate_size_mlp")
            .configDefault("use_qk_norm", true).configDefault("rope_theta", 500000.0).configDefault("attn_temperature_tuning", true)
            .attention(Attention.gqa().withQkNormFromConfig(QkNorm.PER_HEAD_L2_ON_ROPE_LAYERS).withQkvBias(Bias.FROM_CONFIG)
                    .withOutputBias(Bias.FROM_CONFIG).withRotary(Rotary.INTERLEAVED).withLayerTypes(LayerTypes.CHUNKED_ROPE_LAYERS))
            .tensors(MoeFamily.Tensors.builder().llamaBackbone().gqaProjections(ATTN)
                    .router(L + "feed_forward.router.weight")
                    .expertGateUp(L + "feed_forward.experts.gate_up_proj").expertDown(L + "feed_forward.experts.down_proj")
                    .exportPerExpert(L + "feed_forward.experts.{expert}.")
                    .sharedMlp(L + "feed_forward.shared_expert.").denseMlp(L + "feed_forward."))
            .experts(ExpertLayout.packedTransposed(GateUp.CONCATENATED))
            .router(RouterSpec.sigmoidTopKOnInput())
            .sharedExpert(SharedExpert.ungatedExpertWidth())
            .denseLayers(DenseLayers.when(Rule.MOE_LAYERS))
            .build();

    public static final List<MoeFamily> ALL = List.of(QWEN3_MOE, QWEN2_MOE, MIXTRAL, OLMOE, DEEPSEEK_V3, GPT_OSS, GLM4_MOE, LLAMA4_TEXT);

    /** The family for a {@code model_type}; unknown types fail with the described list. */
    public static MoeFamily forModelType(String modelType, String where) {
        for (MoeFamily f : ALL) if (f.modelTypeMatch(modelType).isPresent()) return f;
        String described = ALL.stream().flatMap(f -> f.modelTypes().stream()).collect(Collectors.joining(", "));
        throw new RoutecalException(where + ": unsupported model_type \"" + modelType + "\"; described families: " + described
                + (modelType.equals("llama4") ? " (a Llama 4 checkpoint with its vision tower: use its text_config's llama4_text"
                + " weights; the multimodal wrapper's names are not described)" : ""));
    }
}
