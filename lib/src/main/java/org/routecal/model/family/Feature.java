package org.routecal.model.family;

import org.routecal.compute.RouterRule;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The mechanisms beyond plain pre-norm GQA + RoPE + SwiGLU experts that a family (with its config) needs. The table
 * and config say which ones a model needs ({@link #required}); the engine says which ones it runs; a model needing one
 * the engine lacks is refused, naming exactly that mechanism (issue 14: refusals name what is missing).
 */
public enum Feature {
    QK_NORM("q/k RMSNorm"),
    QKV_BIAS("q/k/v projection biases"),
    CLIP_QKV("clip_qkv"),
    ROPE_SCALING("RoPE scaling (linear, dynamic, yarn, llama3)"),
    SHARED_EXPERT("a shared expert"),
    SIGMOID_GROUPED_ROUTING("sigmoid routing with e_score_correction_bias, n_group/topk_group and routed_scaling_factor"),
    DENSE_LAYERS("dense MLP layers between MoE layers"),
    MLA("multi-head latent attention (MLA: q_a/q_b LoRA projections, kv_a_proj_with_mqa, kv_b_proj, decoupled RoPE head dims)"),
    ATTENTION_SINKS("attention sinks (a learned per-head logit in every softmax)"),
    SLIDING_WINDOW("sliding-window attention"),
    CHUNKED_ATTENTION("chunked local attention (attention_chunk_size)"),
    NOPE_LAYERS("layers without RoPE (no_rope_layers)"),
    ATTENTION_TEMPERATURE_TUNING("attention temperature tuning on NoPE layers (attn_temperature_tuning)"),
    PARTIAL_ROTARY("partial RoPE (partial_rotary_factor < 1)"),
    INTERLEAVED_ROTARY("interleaved-pair RoPE"),
    YARN_MSCALE("YaRN attention scaling from mscale/mscale_all_dim"),
    YARN_UNTRUNCATED("YaRN with truncate = false"),
    L2_QK_NORM("weightless L2 q/k norm after RoPE"),
    ATTENTION_OUTPUT_BIAS("an o_proj bias"),
    PACKED_EXPERTS("experts packed in 3-D tensors (gate_up_proj / down_proj)"),
    EXPERT_BIASES("expert projection biases"),
    CLAMPED_SWIGLU("the clamped SwiGLU of GPT-OSS (alpha 1.702, swiglu_limit)"),
    ROUTER_LOGIT_BIAS("a router bias on the logits"),
    ROUTER_WEIGHT_ON_INPUT("routing weights applied to the expert input");

    private final String description;

    Feature(String description) { this.description = description; }

    public String description() { return description; }

    /**
     * What the forward pass (model/MoeModel's blocks on compute/'s ops, the same on every backend) runs: every
     * mechanism above, each a block option or a backend op (docs/howto/add-a-family.md lists which). Listed by name,
     * not allOf: a mechanism added to this enum is refused until the engine runs it and it is added here.
     */
    public static final Set<Feature> CURRENT_FORWARD = Set.copyOf(EnumSet.of(QK_NORM, QKV_BIAS, CLIP_QKV, ROPE_SCALING,
            SHARED_EXPERT, SIGMOID_GROUPED_ROUTING, DENSE_LAYERS, MLA, ATTENTION_SINKS, SLIDING_WINDOW, CHUNKED_ATTENTION,
            NOPE_LAYERS, ATTENTION_TEMPERATURE_TUNING, PARTIAL_ROTARY, INTERLEAVED_ROTARY, YARN_MSCALE, YARN_UNTRUNCATED,
            L2_QK_NORM, ATTENTION_OUTPUT_BIAS, PACKED_EXPERTS, EXPERT_BIASES, CLAMPED_SWIGLU, ROUTER_LOGIT_BIAS,
            ROUTER_WEIGHT_ON_INPUT));

    /** The mechanisms this model needs, in declaration order. */
    public static Set<Feature> required(ModelConfig c) {
        MoeFamily f = c.family();
        Attention a = f.attention();
        Set<Feature> s = EnumSet.noneOf(Feature.class);
        if (a.kind() == Attention.Kind.MLA) s.add(MLA);
        if (c.qkNorm()) s.add(a.qkNorm() == Attention.QkNorm.PER_HEAD_L2_ON_ROPE_LAYERS ? L2_QK_NORM : QK_NORM);
        if (c.qkvBias()) s.add(QKV_BIAS);
        if (c.outputBias()) s.add(ATTENTION_OUTPUT_BIAS);
        if (c.clipQkv() > 0) s.add(CLIP_QKV);
        if (a.sinks()) s.add(ATTENTION_SINKS);
        if (c.layerAttention().contains(ModelConfig.LayerAttention.SLIDING)) s.add(SLIDING_WINDOW);
        if (c.layerAttention().contains(ModelConfig.LayerAttention.CHUNKED)) s.add(CHUNKED_ATTENTION);
        if (!c.noRopeLayers().isEmpty()) {
            s.add(NOPE_LAYERS);
            if (c.attentionTemperatureTuning()) s.add(ATTENTION_TEMPERATURE_TUNING);
        }
        ModelConfig.Rope r = c.rope();
        if (!r.type().equals("default")) s.add(ROPE_SCALING);
        if (r.partialRotaryFactor() < 1) s.add(PARTIAL_ROTARY);
        if (c.ropeInterleaved()) s.add(INTERLEAVED_ROTARY);
        if (r.type().equals("yarn") && r.attentionFactor() == null && r.mscale() != null && r.mscaleAllDim() != null) s.add(YARN_MSCALE);
        if (r.type().equals("yarn") && c.mla() != null && r.mscaleAllDim() != null && r.mscaleAllDim() != 0) s.add(YARN_MSCALE);
        if (r.type().equals("yarn") && !r.truncate()) s.add(YARN_UNTRUNCATED);
        if (f.experts().packed3d()) s.add(PACKED_EXPERTS);
        if (f.experts().bias()) s.add(EXPERT_BIASES);
        if (f.experts().activation() == ExpertLayout.Activation.CLAMPED_SWIGLU) s.add(CLAMPED_SWIGLU);
        if (f.router().logitBias()) s.add(ROUTER_LOGIT_BIAS);
        RouterRule rule = f.routerRule(c);
        if (rule.scoring() == RouterRule.Scoring.SIGMOID && rule.scoreCorrectionBias()) s.add(SIGMOID_GROUPED_ROUTING);
        if (rule.weightTarget() == RouterRule.WeightTarget.EXPERT_INPUT) s.add(ROUTER_WEIGHT_ON_INPUT);
        if (f.hasSharedExpert()) s.add(SHARED_EXPERT);
        for (int l = 0; l < c.layerCount(); l++) if (!c.isMoeLayer(l)) { s.add(DENSE_LAYERS); break; }
        return s;
    }

    /** Required features that {@code supported} lacks, in declaration order. */
    public static List<Feature> missing(ModelConfig c, Set<Feature> supported) {
        List<Feature> out = new ArrayList<>(required(c));
        out.removeIf(supported::contains);
        return out;
    }

    /** "a; b; c" of the descriptions. */
    public static String describe(List<Feature> features) {
        return features.stream().map(Feature::description).collect(Collectors.joining("; "));
    }
}
