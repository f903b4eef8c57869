package org.routecal.model.family;

/**
 * What a family's attention is (STYLE H1), as named parts instead of positional flags. Per-layer patterns (sliding,
 * chunked, NoPE) come from the config; {@link #layerTypes} says which config keys carry them for this family.
 *
 * @param kind        grouped-query attention (q/k/v/o projections) or DeepSeek's multi-head latent attention
 * @param qkNorm      where a q/k normalisation sits, if any
 * @param qkNormWhen  always (Qwen3, OLMoE) or only when the config's {@code use_qk_norm} is true (GLM-4.5, Llama 4)
 * @param qkvBias     biases on the q/k/v projections
 * @param outputBias  bias on o_proj (GPT-OSS follows {@code attention_bias} for o_proj too)
 * @param sinks       one learned logit per head joins each softmax and is dropped after it (GPT-OSS)
 * @param rotary      how RoPE pairs the dimensions of a head
 * @param layerTypes  where the per-layer attention type (full, sliding window, chunked) comes from
 */
public record Attention(Kind kind, QkNorm qkNorm, When qkNormWhen, Bias qkvBias, Bias outputBias, boolean sinks,
                        Rotary rotary, LayerTypes layerTypes) {

    public enum Kind {
        /** q_proj/k_proj/v_proj/o_proj with num_key_value_heads ≤ num_attention_heads */
        GQA,
        /** multi-head latent attention: q_a/q_b (LoRA, or q_proj when q_lora_rank is null), kv_a_proj_with_mqa, kv_b */
        MLA
    }

    public enum QkNorm {
        NONE,
        /** RMSNorm with weight over head_dim, per head (Qwen3, GLM-4.5) */
        PER_HEAD,
        /** RMSNorm with weight over the whole q (or k) projection, before the head split (OLMoE) */
        WHOLE_PROJECTION,
        /** weightless L2 (RMS) norm per head, applied after RoPE and only on RoPE layers (Llama 4) */
        PER_HEAD_L2_ON_ROPE_LAYERS
    }

    /** Whether a part is always there or switched by a config flag. */
    public enum When { ALWAYS, CONFIG_FLAG }

    public enum Bias {
        NONE,
        /** present when the config's {@code attention_bias} (or {@code qkv_bias}) is true */
        FROM_CONFIG,
        ALWAYS
    }

    public enum Rotary {
        /** pair (x[i], x[i + d/2]): transformers' rotate_half */
        HALF_SPLIT,
        /** pair (x[2i], x[2i+1]): Llama 4's complex multiply */
        INTERLEAVED,
        /** interleaved when the config's {@code rope_interleave} is true (DeepSeek-V3), else half-split */
        INTERLEAVED_FROM_CONFIG
    }

    /** Which layers use a sliding window or chunked attention (and which skip RoPE). */
    public enum LayerTypes {
        /** every layer is full attention */
        ALL_FULL,
        /** every layer uses {@code sliding_window} when it is set (Mixtral) */
        SLIDING_WHEN_SET,
        /** every layer uses {@code sliding_window} when {@code use_sliding_window} is true (Qwen3-MoE) */
        SLIDING_WHEN_FLAG,
        /** {@code layer_types}; without it, HF's rule from use_sliding_window and max_window_layers (Qwen2-MoE) */
        LAYER_TYPES_OR_WINDOW_LAYERS,
        /** {@code layer_types} (sliding_attention / full_attention), alternating by default (GPT-OSS) */
        LAYER_TYPES,
        /** {@code no_rope_layers}: RoPE layers use chunked attention of {@code attention_chunk_size}, NoPE layers are full (Llama 4) */
        CHUNKED_ROPE_LAYERS
    }

    /** Plain GQA: no q/k norm, no biases, half-split RoPE, full attention everywhere. */
    public static Attention gqa() {
        return new Attention(Kind.GQA, QkNorm.NONE, When.ALWAYS, Bias.NONE, Bias.NONE, false, Rotary.HALF_SPLIT, LayerTypes.ALL_FULL);
    }

    /** DeepSeek's multi-head latent attention. */
    public static Attention mla() {
        return new Attention(Kind.MLA, QkNorm.NONE, When.ALWAYS, Bias.NONE, Bias.NONE, false, Rotary.HALF_SPLIT, LayerTypes.ALL_FULL);
    }

    public Attention withQkNorm(QkNorm norm) { return new Attention(kind, norm, When.ALWAYS, qkvBias, outputBias, sinks, rotary, layerTypes); }

    /** A q/k norm switched by the config's {@code use_qk_norm}. */
    public Attention withQkNormFromConfig(QkNorm norm) {
        return new Attention(kind, norm, When.CONFIG_FLAG, qkvBias, outputBias, sinks, rotary, layerTypes);
    }

    public Attention withQkvBias(Bias bias) { return new Attention(kind, qkNorm, qkNormWhen, bias, outputBias, sinks, rotary, layerTypes); }

    public Attention withOutputBias(Bias bias) { return new Attention(kind, qkNorm, qkNormWhen, qkvBias, bias, sinks, rotary, layerTypes); }

    public Attention withSinks() { return new Attention(kind, qkNorm, qkNormWhen, qkvBias, outputBias, true, rotary, layerTypes); }

    public Attention withRotary(Rotary r) { return new Attention(kind, qkNorm, qkNormWhen, qkvBias, outputBias, sinks, r, layerTypes); }

    public Attention withLayerTypes(LayerTypes t) { return new Attention(kind, qkNorm, qkNormWhen, qkvBias, outputBias, sinks, rotary, t); }
}
