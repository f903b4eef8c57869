package org.routecal.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The typed view of an HF {@code config.json}, read through the family's key aliases so both transformers-4
 * (num_experts, rope_theta) and transformers-5 (num_local_experts, rope_parameters) spellings load. Every field is
 * checked against its meaning before any work (issue 12): a value that would give NaN routing, a stack trace or
 * minutes of work is refused with an error naming the file and the field ({@link ConfigReader}).
 */
public record ModelConfig(
        String modelType, MoeFamily family,
        int vocabSize, int hiddenSize, int layerCount,
        int headCount, int headCountKv,
        int headDim,                          // q/k head width (MLA: qk_nope_head_dim + qk_rope_head_dim)
        float rmsNormEps,
        Rope rope, int maxPositionEmbeddings,
        int intermediateSize,                 // dense MLP width (dense layers; Llama 4: intermediate_size_mlp)
        int expertCount, int expertUsedCount, int expertIntermediateSize,
        int expertSharedIntermediateSize,     // 0 when no shared expert
        boolean normTopKProb, boolean tieWordEmbeddings, boolean attentionBias, float clipQkv,
        Set<Integer> mlpOnlyLayers, int decoderSparseStep, int firstKDenseReplace,
        int expertGroupCount, int expertGroupUsedCount, float routedScalingFactor,
        Set<Integer> moeLayers,               // Llama 4: the MoE layers (moe_layers or every interleave_moe_layer_step-th)
        Mla mla,                              // null unless the family's attention is MLA
        List<LayerAttention> layerAttention,  // [layerCount]
        int slidingWindow, int attentionChunkSize,
        Set<Integer> noRopeLayers,            // Llama 4's NoPE layers
        boolean attentionTemperatureTuning, float attentionFloorScale, float attentionScale,
        boolean qkNorm,                       // the family's q/k norm is on (always, or by use_qk_norm)
        boolean ropeInterleaved,              // RoPE pairs (x[2i], x[2i+1]) instead of (x[i], x[i+d/2])
        float swigluLimit,                    // GPT-OSS clamp; 0 for other families
        int mtpLayerCount) {                  // multi-token-prediction layers stored after the last layer (not run)

    /** Refuses configs beyond these: far above any published model, and below them no shape arithmetic overflows. */
    public static final int MAX_LAYERS = 4096, MAX_EXPERTS = 65_536, MAX_HEADS = 16_384, MAX_WIDTH = 1 << 20,
            MAX_VOCAB = 1 << 24;

    /**
     * RoPE: theta plus the scaling variant (default, linear, dynamic, yarn, llama3) and its parameters.
     *
     * @param partialRotaryFactor share of the head that rotates (GLM-4.5: 0.5); 1 = all of it
     * @param mscale              YaRN mscale (DeepSeek), null when absent
     * @param mscaleAllDim        YaRN mscale_all_dim (DeepSeek), null when absent
     * @param truncate            YaRN rounds its correction range to whole dimensions (GPT-OSS: false)
     */
    public record Rope(double theta, String type, double factor, double originalMaxPositions,
                       double betaFast, double betaSlow, double lowFreqFactor, double highFreqFactor, Double attentionFactor,
                       double partialRotaryFactor, Double mscale, Double mscaleAllDim, boolean truncate) {
        static Rope defaults(double theta, double partialRotaryFactor) {
            return new Rope(theta, "default", 1, 0, 32, 1, 1, 4, null, partialRotaryFactor, null, null, true);
        }
    }

    /**
     * Multi-head latent attention geometry (DeepSeek-V3).
     *
     * @param qLoraRank q_a_proj → q_b_proj rank; 0 when q_lora_rank is null (q_proj projects directly)
     */
    public record Mla(int qLoraRank, int kvLoraRank, int qkNopeHeadDim, int qkRopeHeadDim, int vHeadDim) {}

    /** A layer's attention span: all earlier tokens, the last {@code sliding_window}, or its own chunk. */
    public enum LayerAttention { FULL, SLIDING, CHUNKED }

    /** Whether layer {@code layer} has an MoE block (else a dense MLP), by the family's rules. */
    public boolean isMoeLayer(int layer) {
        DenseLayers rules = family.denseLayers();
        if (expertCount <= 0) return false;
        if (rules.has(DenseLayers.Rule.MLP_ONLY_LAYERS) && mlpOnlyLayers.contains(layer)) return false;
        if (rules.has(DenseLayers.Rule.DECODER_SPARSE_STEP) && (layer + 1) % decoderSparseStep != 0) return false;
        if (rules.has(DenseLayers.Rule.FIRST_K_DENSE_REPLACE) && layer < firstKDenseReplace) return false;
        return !rules.has(DenseLayers.Rule.MOE_LAYERS) || moeLayers.contains(layer);
    }

    /** q/k/v projections carry biases. */
    public boolean qkvBias() { return resolve(family.attention().qkvBias()); }

    /** o_proj carries a bias. */
    public boolean outputBias() { return resolve(family.attention().outputBias()); }

    private boolean resolve(Attention.Bias b) {
        return b == Attention.Bias.ALWAYS || (b == Attention.Bias.FROM_CONFIG && attentionBias);
    }

    /** Whether layer {@code layer} applies RoPE (all but Llama 4's NoPE layers). */
    public boolean usesRope(int layer) { return !noRopeLayers.contains(layer); }

    /** Width of a value (and attention output) head: MLA's v_head_dim, the q/k head width elsewhere. */
    public int valueHeadDim() { return mla != null ? mla.vHeadDim() : headDim; }

    /** Key/value heads the attention op sees: MLA expands its latent into one key and value per query head. */
    public int attentionKvHeads() { return mla != null ? headCount : headCountKv; }

    /** Dimensions of a head that RoPE rotates: (MLA: qk_rope_head_dim, else head_dim) × partial_rotary_factor. */
    public int rotaryDim() { return (int) ((mla != null ? mla.qkRopeHeadDim() : headDim) * rope.partialRotaryFactor()); }

    /**
     * The softmax scale: 1/√(q/k head width), times mscale² for MLA with YaRN's mscale_all_dim (transformers'
     * yarn_apply_mscale in DeepSeek-V3's attention: mscale = 0.1 · mscale_all_dim · ln(factor) + 1 when factor &gt; 1).
     */
    public float softmaxScale() {
        double scale = 1.0 / Math.sqrt(headDim);
        Double all = rope.mscaleAllDim();
        if (mla != null && !rope.type().equals("default") && all != null && all != 0) {
            double m = rope.factor() <= 1 ? 1.0 : 0.1 * all * Math.log(rope.factor()) + 1.0;
            scale *= m * m;
        }
        return (float) scale;
    }

    public static ModelConfig load(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new RoutecalException(file + ": not found (is " + modelDir + " an HF model directory?)");
        } catch (IOException e) {
            throw new RoutecalException(file + ": invalid JSON: " + e.getMessage(), e);
        }
        return parse(root, file.toString());
    }

    /** A config from HF keys (benchmarks and synthetic models), validated like a config.json. */
    public static ModelConfig of(Map<String, ?> hfKeys) {
        return parse(Json.MAPPER.valueToTree(hfKeys), "synthetic config");
    }

    public static ModelConfig parse(JsonNode root, String where) {
        if (root == null || !root.isObject()) throw new RoutecalException(where + ": expected a JSON object");
        // Multimodal wrappers keep the language model's config under text_config.
        if (root.has("text_config") && !root.has("hidden_size")) root = root.get("text_config");
        JsonNode typeNode = root.get("model_type");
        if (typeNode == null || !typeNode.isTextual()) throw new RoutecalException(where + ": field \"model_type\" is missing");
        String modelType = typeNode.asText();
        MoeFamily family = Families.forModelType(modelType, where);
        ConfigReader r = new ConfigReader(root, family, where);

        int layers = r.boundedInt("num_hidden_layers", null, 1, MAX_LAYERS);
        int hidden = r.boundedInt("hidden_size", null, 1, MAX_WIDTH);
        int heads = r.boundedInt("num_attention_heads", null, 1, MAX_HEADS);
        int headsKv = r.boundedInt("num_key_value_heads", heads, 1, MAX_HEADS);
        if (heads % headsKv != 0) {
            throw r.error("num_key_value_heads", "(" + headsKv + ") must divide num_attention_heads (" + heads + ")");
        }
        Mla mla = family.attention().kind() == Attention.Kind.MLA ? r.mla() : null;
        int headDim;
        if (mla != null) {
            headDim = mla.qkNopeHeadDim() + mla.qkRopeHeadDim();
        } else if (r.present("head_dim")) {
            headDim = r.boundedInt("head_dim", null, 1, MAX_WIDTH);
        } else {
            if (hidden % heads != 0) throw r.error("hidden_size", "(" + hidden + ") is not divisible by num_attention_heads (" + heads + ")");
            headDim = hidden / heads;
        }
        int ropeDim = mla != null ? mla.qkRopeHeadDim() : headDim;
        Rope rope = r.rope(ropeDim);

        int experts = r.boundedInt("num_experts", null, 1, MAX_EXPERTS);
        int used = r.boundedInt("num_experts_per_tok", null, 1, MAX_EXPERTS);
        if (used > experts) throw r.error("num_experts_per_tok", "(" + used + ") exceeds the expert count (" + experts + ")");
        int expertInter = r.boundedInt("moe_intermediate_size", null, 1, MAX_WIDTH);
        int sharedInter = switch (family.sharedExpert().width()) {
            case NONE -> 0;
            case SHARED_EXPERT_INTERMEDIATE_SIZE -> r.boundedInt("shared_expert_intermediate_size", null, 1, MAX_WIDTH);
            case EXPERT_WIDTH_TIMES_N_SHARED -> expertInter * r.boundedInt("n_shared_experts", 1, 1, 1024);
            case EXPERT_WIDTH -> expertInter;
        };
        int groups = r.boundedInt("n_group", 1, 1, experts), groupsUsed = r.boundedInt("topk_group", 1, 1, groups);
        if (experts % groups != 0) throw r.error("n_group", "(" + groups + ") must divide the expert count (" + experts + ")");
        if (groupsUsed * (experts / groups) < used) {
            throw r.error("topk_group", "(" + groupsUsed + ") keeps " + groupsUsed * (experts / groups) + " experts, fewer than num_experts_per_tok (" + used + ")");
        }
        Set<Integer> mlpOnly = r.layerSet("mlp_only_layers", layers);
        Set<Integer> moeLayers = family.denseLayers().has(DenseLayers.Rule.MOE_LAYERS) ? r.moeLayers(layers) : Set.of();
        int sparseStep = r.boundedInt("decoder_sparse_step", 1, 1, layers);
        int firstDense = r.boundedInt("first_k_dense_replace", 0, 0, layers);
        int maxPos = r.boundedInt("max_position_embeddings", 32768, 1, Integer.MAX_VALUE);
        JsonNode clip = r.node("clip_qkv");
        float clipQkv = clip == null ? 0f : (float) r.positiveDouble("clip_qkv", null);
        boolean qkNorm = family.attention().qkNorm() != Attention.QkNorm.NONE
                && (family.attention().qkNormWhen() == Attention.When.ALWAYS || r.boolOr("use_qk_norm", false));
        boolean interleaved = switch (family.attention().rotary()) {
            case HALF_SPLIT -> false;
            case INTERLEAVED -> true;
            case INTERLEAVED_FROM_CONFIG -> r.boolOr("rope_interleave", true);
        };
        ConfigReader.LayerPattern pattern = r.layerPattern(layers);
        boolean clamped = family.experts().activation() == org.routecal.model.family.ExpertLayout.Activation.CLAMPED_SWIGLU;

        ModelConfig c = new ModelConfig(modelType, family,
                r.boundedInt("vocab_size", null, 1, MAX_VOCAB), hidden, layers,
                heads, headsKv, headDim, (float) r.positiveDouble("rms_norm_eps", 1e-6),
                rope, maxPos,
                r.boundedInt("intermediate_size", 0, 0, MAX_WIDTH),
                experts, used, expertInter, sharedInter,
                r.boolOr("norm_topk_prob", false), r.boolOr("tie_word_embeddings", false),
                r.boolOr("attention_bias", false), clipQkv,
                mlpOnly, sparseStep, firstDense,
                groups, groupsUsed, (float) r.positiveDouble("routed_scaling_factor", 1.0),
                moeLayers, mla, pattern.types(), pattern.slidingWindow(), pattern.chunkSize(), pattern.noRope(),
                !pattern.noRope().isEmpty() && r.boolOr("attn_temperature_tuning", false),
                (float) r.positiveDouble("floor_scale", 8192.0), (float) r.finiteDouble("attn_scale", 0.1),
                qkNorm, interleaved, clamped ? (float) r.positiveDouble("swiglu_limit", 7.0) : 0f,
                family.mtpLayers() ? r.boundedInt("num_nextn_predict_layers", 0, 0, 64) : 0);
        c.checkLayerPlan(r);
        return c;
    }

    /** Needs at least one MoE layer, and a dense width wherever a dense layer is. */
    private void checkLayerPlan(ConfigReader r) {
        List<Integer> dense = new ArrayList<>();
        for (int l = 0; l < layerCount; l++) if (!isMoeLayer(l)) dense.add(l);
        if (dense.size() == layerCount) {
            throw r.error(family.denseLayers().has(DenseLayers.Rule.FIRST_K_DENSE_REPLACE) ? "first_k_dense_replace" : "num_hidden_layers",
                    "leaves no MoE layer (every layer is dense); routecal works on MoE layers");
        }
        if (!dense.isEmpty() && intermediateSize <= 0) {
            throw r.error("intermediate_size", "must be positive: layers " + new TreeSet<>(dense) + " are dense MLPs of that width");
        }
        if (family.sharedExpert().gate() != SharedExpert.Gate.NONE && expertSharedIntermediateSize <= 0) {
            throw r.error("shared_expert_intermediate_size", "must be positive");
        }
    }
}
