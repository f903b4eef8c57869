package org.routecal.model.family;

import org.routecal.RoutecalException;
import org.routecal.model.family.MoeFamily.Attention;
import org.routecal.model.family.MoeFamily.AttentionKind;
import org.routecal.model.family.MoeFamily.DenseLayerRule;
import org.routecal.model.family.MoeFamily.QkNorm;
import org.routecal.model.family.MoeFamily.RouterKind;
import org.routecal.model.family.MoeFamily.SharedGate;
import org.routecal.model.family.MoeFamily.Tensors;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The family table. Adding a model of a known pattern = adding an entry here (docs/howto/add-a-family.md).
 * Names were read off checkpoints that transformers 5.17's save_pretrained writes (per-expert 2-D experts).
 */
public final class Families {
    private Families() {}

    /** Config keys shared by every family: our key → HF keys in order (transformers 4 name, then 5). */
    private static Map<String, List<String>> commonAliases() {
        Map<String, List<String>> m = new HashMap<>();
        m.put("vocab_size", List.of("vocab_size"));
        m.put("hidden_size", List.of("hidden_size"));
        m.put("num_hidden_layers", List.of("num_hidden_layers"));
        m.put("num_attention_heads", List.of("num_attention_heads"));
        m.put("num_key_value_heads", List.of("num_key_value_heads"));
        m.put("head_dim", List.of("head_dim"));
        m.put("rms_norm_eps", List.of("rms_norm_eps"));
        m.put("rope_theta", List.of("rope_theta", "rope_parameters.rope_theta"));
        m.put("rope_scaling", List.of("rope_scaling", "rope_parameters"));
        m.put("intermediate_size", List.of("intermediate_size"));
        m.put("num_experts", List.of("num_experts", "num_local_experts", "n_routed_experts"));
        m.put("num_experts_per_tok", List.of("num_experts_per_tok"));
        m.put("moe_intermediate_size", List.of("moe_intermediate_size"));
        m.put("shared_expert_intermediate_size", List.of("shared_expert_intermediate_size"));
        m.put("n_shared_experts", List.of("n_shared_experts"));
        m.put("norm_topk_prob", List.of("norm_topk_prob"));
        m.put("tie_word_embeddings", List.of("tie_word_embeddings"));
        m.put("mlp_only_layers", List.of("mlp_only_layers"));
        m.put("decoder_sparse_step", List.of("decoder_sparse_step"));
        m.put("first_k_dense_replace", List.of("first_k_dense_replace"));
        m.put("n_group", List.of("n_group"));
        m.put("topk_group", List.of("topk_group"));
        m.put("routed_scaling_factor", List.of("routed_scaling_factor"));
        m.put("attention_bias", List.of("attention_bias", "qkv_bias"));
        m.put("clip_qkv", List.of("clip_qkv"));
        m.put("max_position_embeddings", List.of("max_position_embeddings"));
        m.put("use_sliding_window", List.of("use_sliding_window"));
        return m;
    }

    private static Map<String, List<String>> aliases(Map<String, List<String>> overrides) {
        Map<String, List<String>> m = commonAliases();
        m.putAll(overrides);
        return Map.copyOf(m);
    }

    private static final String L = "model.layers.{layer}.";
    private static final String ATTN = L + "self_attn.";

    /** Qwen3-MoE: per-head q/k RMSNorm, softmax top-k with norm_topk_prob, no shared expert. */
    public static final MoeFamily QWEN3_MOE = new MoeFamily("Qwen3-MoE", List.of("qwen3_moe"), aliases(Map.of()),
            new Attention(AttentionKind.MHA_GQA, QkNorm.PER_HEAD, true, false),
            new Tensors("model.embed_tokens.weight", L + "input_layernorm.weight", L + "post_attention_layernorm.weight",
                    ATTN + "q_proj", ATTN + "k_proj", ATTN + "v_proj", ATTN + "o_proj", ATTN + "q_norm.weight", ATTN + "k_norm.weight",
                    L + "mlp.gate.weight", null,
                    L + "mlp.experts.{expert}.gate_proj", L + "mlp.experts.{expert}.up_proj", L + "mlp.experts.{expert}.down_proj",
                    null, null, null, null,
                    L + "mlp.gate_proj", L + "mlp.up_proj", L + "mlp.down_proj",
                    "model.norm.weight", "lm_head.weight"),
            ExpertLayout.perExpert2d(), RouterKind.SOFTMAX_TOPK_CONFIG_NORM, SharedGate.NONE,
            new DenseLayerRule(true, true, false), true, null);

    /** Qwen2-MoE: q/k/v biases, a shared expert gated by sigmoid(shared_expert_gate(x)). */
    public static final MoeFamily QWEN2_MOE = new MoeFamily("Qwen2-MoE", List.of("qwen2_moe"), aliases(Map.of()),
            new Attention(AttentionKind.MHA_GQA, QkNorm.NONE, false, true),
            new Tensors("model.embed_tokens.weight", L + "input_layernorm.weight", L + "post_attention_layernorm.weight",
                    ATTN + "q_proj", ATTN + "k_proj", ATTN + "v_proj", ATTN + "o_proj", null, null,
                    L + "mlp.gate.weight", null,
                    L + "mlp.experts.{expert}.gate_proj", L + "mlp.experts.{expert}.up_proj", L + "mlp.experts.{expert}.down_proj",
                    L + "mlp.shared_expert.gate_proj", L + "mlp.shared_expert.up_proj", L + "mlp.shared_expert.down_proj",
                    L + "mlp.shared_expert_gate.weight",
                    L + "mlp.gate_proj", L + "mlp.up_proj", L + "mlp.down_proj",
                    "model.norm.weight", "lm_head.weight"),
            ExpertLayout.perExpert2d(), RouterKind.SOFTMAX_TOPK_CONFIG_NORM, SharedGate.SIGMOID_LINEAR,
            new DenseLayerRule(true, true, false), true, null);

    /** Mixtral: block_sparse_moe with w1 (gate) / w3 (up) / w2 (down), always-normalized top-k. */
    public static final MoeFamily MIXTRAL = new MoeFamily("Mixtral", List.of("mixtral"),
            aliases(Map.of("moe_intermediate_size", List.of("intermediate_size"))),
            new Attention(AttentionKind.MHA_GQA, QkNorm.NONE, false, false),
            new Tensors("model.embed_tokens.weight", L + "input_layernorm.weight", L + "post_attention_layernorm.weight",
                    ATTN + "q_proj", ATTN + "k_proj", ATTN + "v_proj", ATTN + "o_proj", null, null,
                    L + "block_sparse_moe.gate.weight", null,
                    L + "block_sparse_moe.experts.{expert}.w1", L + "block_sparse_moe.experts.{expert}.w3",
                    L + "block_sparse_moe.experts.{expert}.w2",
                    null, null, null, null, null, null, null,
                    "model.norm.weight", "lm_head.weight"),
            ExpertLayout.perExpert2d(), RouterKind.SOFTMAX_TOPK_ALWAYS_NORM, SharedGate.NONE,
            new DenseLayerRule(false, false, false), true, null);

    /** OLMoE: q/k RMSNorm over the whole projection (before the head split), optional clip_qkv. */
    public static final MoeFamily OLMOE = new MoeFamily("OLMoE", List.of("olmoe"),
            aliases(Map.of("moe_intermediate_size", List.of("intermediate_size"))),
            new Attention(AttentionKind.MHA_GQA, QkNorm.WHOLE_PROJECTION, false, false),
            new Tensors("model.embed_tokens.weight", L + "input_layernorm.weight", L + "post_attention_layernorm.weight",
                    ATTN + "q_proj", ATTN + "k_proj", ATTN + "v_proj", ATTN + "o_proj", ATTN + "q_norm.weight", ATTN + "k_norm.weight",
                    L + "mlp.gate.weight", null,
                    L + "mlp.experts.{expert}.gate_proj", L + "mlp.experts.{expert}.up_proj", L + "mlp.experts.{expert}.down_proj",
                    null, null, null, null, null, null, null,
                    "model.norm.weight", "lm_head.weight"),
            ExpertLayout.perExpert2d(), RouterKind.SOFTMAX_TOPK_CONFIG_NORM, SharedGate.NONE,
            new DenseLayerRule(false, false, false), true, null);

    /**
     * DeepSeek-V3: described (router rule, shared experts, dense first layers, names) so the table proves it can
     * express it; MLA attention is not in our forward pass yet.
     */
    public static final MoeFamily DEEPSEEK_V3 = new MoeFamily("DeepSeek-V3", List.of("deepseek_v3"), aliases(Map.of()),
            new Attention(AttentionKind.MLA, QkNorm.NONE, false, false),
            new Tensors("model.embed_tokens.weight", L + "input_layernorm.weight", L + "post_attention_layernorm.weight",
                    ATTN + "q_a_proj", ATTN + "kv_a_proj_with_mqa", ATTN + "kv_b_proj", ATTN + "o_proj", ATTN + "q_a_layernorm.weight",
                    ATTN + "kv_a_layernorm.weight",
                    L + "mlp.gate.weight", L + "mlp.gate.e_score_correction_bias",
                    L + "mlp.experts.{expert}.gate_proj", L + "mlp.experts.{expert}.up_proj", L + "mlp.experts.{expert}.down_proj",
                    L + "mlp.shared_experts.gate_proj", L + "mlp.shared_experts.up_proj", L + "mlp.shared_experts.down_proj", null,
                    L + "mlp.gate_proj", L + "mlp.up_proj", L + "mlp.down_proj",
                    "model.norm.weight", "lm_head.weight"),
            ExpertLayout.perExpert2d(), RouterKind.SIGMOID_GROUPED, SharedGate.UNGATED,
            new DenseLayerRule(false, false, true), false, "multi-head latent attention (MLA) is not implemented yet");

    /** GPT-OSS: experts packed as 3-D tensors with interleaved gate/up and biases; described, not run yet. */
    public static final MoeFamily GPT_OSS = new MoeFamily("GPT-OSS", List.of("gpt_oss"),
            aliases(Map.of("moe_intermediate_size", List.of("intermediate_size"))),
            new Attention(AttentionKind.MHA_GQA, QkNorm.NONE, false, true),
            new Tensors("model.embed_tokens.weight", L + "input_layernorm.weight", L + "post_attention_layernorm.weight",
                    ATTN + "q_proj", ATTN + "k_proj", ATTN + "v_proj", ATTN + "o_proj", null, null,
                    L + "mlp.router.weight", L + "mlp.router.bias",
                    L + "mlp.experts.gate_up_proj", L + "mlp.experts.gate_up_proj", L + "mlp.experts.down_proj",
                    null, null, null, null, null, null, null,
                    "model.norm.weight", "lm_head.weight"),
            ExpertLayout.packed3dFusedTransposed(true, true), RouterKind.SOFTMAX_TOPK_ALWAYS_NORM, SharedGate.NONE,
            new DenseLayerRule(false, false, false), false,
            "attention sinks, sliding windows and the clamped SwiGLU of GPT-OSS are not implemented yet");

    public static final List<MoeFamily> ALL = List.of(QWEN3_MOE, QWEN2_MOE, MIXTRAL, OLMOE, DEEPSEEK_V3, GPT_OSS);

    /** The family for a {@code model_type}; unknown types fail with the supported list. */
    public static MoeFamily forModelType(String modelType, String where) {
        for (MoeFamily f : ALL) if (f.modelTypeMatch(modelType).isPresent()) return f;
        String supported = ALL.stream().filter(MoeFamily::runnable).flatMap(f -> f.modelTypes().stream())
                .collect(Collectors.joining(", "));
        throw new RoutecalException(where + ": unsupported model_type \"" + modelType + "\"; supported: " + supported);
    }
}
