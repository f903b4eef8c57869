package org.routecal.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;
import org.routecal.io.Json;
import org.routecal.model.family.Families;
import org.routecal.model.family.MoeFamily;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The typed view of an HF {@code config.json}, read through the family's key aliases so both transformers-4
 * (num_experts, rope_theta) and transformers-5 (num_local_experts, rope_parameters) spellings load.
 * Every validation error names the file and the field.
 */
public record ModelConfig(
        String modelType, MoeFamily family,
        int vocabSize, int hiddenSize, int layerCount,
        int headCount, int headCountKv, int headDim, float rmsNormEps,
        Rope rope, int maxPositionEmbeddings,
        int intermediateSize,                 // dense MLP width (dense layers)
        int expertCount, int expertUsedCount, int expertIntermediateSize,
        int expertSharedIntermediateSize,      // 0 when no shared expert
        boolean normTopKProb, boolean tieWordEmbeddings, boolean attentionBias, float clipQkv,
        Set<Integer> mlpOnlyLayers, int decoderSparseStep, int firstKDenseReplace,
        int expertGroupCount, int expertGroupUsedCount, float routedScalingFactor) {

    /** RoPE: theta plus the scaling variant (default, linear, dynamic, yarn, llama3) and its parameters. */
    public record Rope(double theta, String type, double factor, double originalMaxPositions,
                       double betaFast, double betaSlow, double lowFreqFactor, double highFreqFactor, Double attentionFactor) {
        static Rope defaults(double theta) { return new Rope(theta, "default", 1, 0, 32, 1, 1, 4, null); }
    }

    /** Whether layer {@code layer} has an MoE block (else a dense MLP). */
    public boolean isMoeLayer(int layer) {
        MoeFamily.DenseLayerRule rule = family.denseLayers();
        if (expertCount <= 0) return false;
        if (rule.mlpOnlyLayers() && mlpOnlyLayers.contains(layer)) return false;
        if (rule.decoderSparseStep() && decoderSparseStep > 0 && (layer + 1) % decoderSparseStep != 0) return false;
        return !rule.firstKDenseReplace() || layer >= firstKDenseReplace;
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

    public static ModelConfig parse(JsonNode root, String where) {
        if (root == null || !root.isObject()) throw new RoutecalException(where + ": expected a JSON object");
        // Multimodal wrappers keep the language model's config under text_config.
        if (root.has("text_config") && !root.has("hidden_size")) root = root.get("text_config");
        JsonNode typeNode = root.get("model_type");
        if (typeNode == null || !typeNode.isTextual()) throw new RoutecalException(where + ": field \"model_type\" is missing");
        String modelType = typeNode.asText();
        MoeFamily family = Families.forModelType(modelType, where);
        Reader r = new Reader(root, family, where);

        int hidden = r.positiveInt("hidden_size", null);
        int heads = r.positiveInt("num_attention_heads", null);
        int headsKv = r.positiveInt("num_key_value_heads", heads);
        Integer headDimOrNull = r.optInt("head_dim");
        int headDim = headDimOrNull != null ? headDimOrNull : hidden / heads;
        if (headDimOrNull == null && hidden % heads != 0) {
            throw new RoutecalException(where + ": field \"hidden_size\" (" + hidden + ") is not divisible by num_attention_heads (" + heads + ")");
        }
        if (heads % headsKv != 0) {
            throw new RoutecalException(where + ": field \"num_key_value_heads\" (" + headsKv + ") must divide num_attention_heads (" + heads + ")");
        }
        int experts = r.positiveInt("num_experts", null);
        int used = r.positiveInt("num_experts_per_tok", null);
        if (used > experts) {
            throw new RoutecalException(where + ": field \"num_experts_per_tok\" (" + used + ") exceeds the expert count (" + experts + ")");
        }
        int expertInter = r.positiveInt("moe_intermediate_size", null);
        int sharedInter = family.hasSharedExpert() ? r.intOr("shared_expert_intermediate_size", 0) : 0;
        if (family.sharedExpertGate() == MoeFamily.SharedGate.UNGATED && sharedInter == 0) {
            sharedInter = expertInter * r.intOr("n_shared_experts", 1);
        }
        int groups = r.intOr("n_group", 1), groupsUsed = r.intOr("topk_group", 1);
        Set<Integer> mlpOnly = new HashSet<>();
        JsonNode mlpOnlyNode = r.node("mlp_only_layers");
        if (mlpOnlyNode != null && mlpOnlyNode.isArray()) mlpOnlyNode.forEach(n -> mlpOnly.add(n.asInt()));
        JsonNode clip = r.node("clip_qkv");

        return new ModelConfig(modelType, family,
                r.positiveInt("vocab_size", null), hidden, r.positiveInt("num_hidden_layers", null),
                heads, headsKv, headDim, (float) r.doubleOr("rms_norm_eps", 1e-6),
                r.rope(), r.intOr("max_position_embeddings", 32768),
                r.intOr("intermediate_size", 0),
                experts, used, expertInter, sharedInter,
                r.boolOr("norm_topk_prob", false), r.boolOr("tie_word_embeddings", false),
                r.boolOr("attention_bias", false), clip == null || clip.isNull() ? 0f : (float) clip.asDouble(),
                Set.copyOf(mlpOnly), r.intOr("decoder_sparse_step", 1), r.intOr("first_k_dense_replace", 0),
                groups, groupsUsed, (float) r.doubleOr("routed_scaling_factor", 1.0));
    }

    /** Reads fields through the family's alias list; dotted aliases reach into nested objects. */
    private static final class Reader {
        final JsonNode root; final MoeFamily family; final String where;

        Reader(JsonNode root, MoeFamily family, String where) { this.root = root; this.family = family; this.where = where; }

        JsonNode node(String key) {
            List<String> names = family.configAliases().getOrDefault(key, List.of(key));
            for (String name : names) {
                JsonNode n = root;
                for (String part : name.split("\\.")) n = n == null ? null : n.get(part);
                if (n != null && !n.isNull()) return n;
            }
            return null;
        }

        String shown(String key) { return String.join("\" or \"", family.configAliases().getOrDefault(key, List.of(key))); }

        Integer optInt(String key) {
            JsonNode n = node(key);
            if (n == null) return null;
            if (!n.canConvertToInt() || !n.isIntegralNumber()) throw new RoutecalException(where + ": field \"" + shown(key) + "\" must be an integer, got " + n);
            return n.asInt();
        }

        int positiveInt(String key, Integer dflt) {
            Integer v = optInt(key);
            if (v == null) {
                if (dflt != null) return dflt;
                throw new RoutecalException(where + ": field \"" + shown(key) + "\" is missing");
            }
            if (v <= 0) throw new RoutecalException(where + ": field \"" + shown(key) + "\" must be positive, got " + v);
            return v;
        }

        int intOr(String key, int dflt) { Integer v = optInt(key); return v == null ? dflt : v; }

        double doubleOr(String key, double dflt) {
            JsonNode n = node(key);
            if (n == null) return dflt;
            if (!n.isNumber()) throw new RoutecalException(where + ": field \"" + shown(key) + "\" must be a number, got " + n);
            return n.asDouble();
        }

        boolean boolOr(String key, boolean dflt) {
            JsonNode n = node(key);
            if (n == null) return dflt;
            if (!n.isBoolean()) throw new RoutecalException(where + ": field \"" + shown(key) + "\" must be true or false, got " + n);
            return n.asBoolean();
        }

        Rope rope() {
            double theta = doubleOr("rope_theta", 10000.0);
            JsonNode s = node("rope_scaling");
            if (s == null || !s.isObject()) return Rope.defaults(theta);
            String type = s.has("rope_type") ? s.get("rope_type").asText() : s.has("type") ? s.get("type").asText() : "default";
            if (!List.of("default", "linear", "dynamic", "yarn", "llama3").contains(type)) {
                throw new RoutecalException(where + ": field \"rope_scaling.rope_type\" \"" + type + "\" is not supported (default, linear, dynamic, yarn, llama3)");
            }
            if (s.has("rope_theta")) theta = s.get("rope_theta").asDouble();
            if (type.equals("default")) return Rope.defaults(theta);
            return new Rope(theta, type, s.path("factor").asDouble(1.0),
                    s.path("original_max_position_embeddings").asDouble(intOr("max_position_embeddings", 32768)),
                    s.path("beta_fast").asDouble(32), s.path("beta_slow").asDouble(1),
                    s.path("low_freq_factor").asDouble(1), s.path("high_freq_factor").asDouble(4),
                    s.has("attention_factor") && !s.get("attention_factor").isNull() ? s.get("attention_factor").asDouble() : null);
        }
    }
}
