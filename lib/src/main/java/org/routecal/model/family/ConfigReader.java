package org.routecal.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads config.json fields through the family's key aliases (dotted aliases reach into nested objects) and checks
 * each against its meaning, naming the key the file actually used. Absent keys take the family's default
 * ({@link MoeFamily#configDefaults}) before the generic one.
 */
final class ConfigReader {
    private final JsonNode root;
    private final MoeFamily family;
    private final String where;

    ConfigReader(JsonNode root, MoeFamily family, String where) {
        this.root = root;
        this.family = family;
        this.where = where;
    }

    private List<String> aliases(String key) { return family.configAliases().getOrDefault(key, List.of(key)); }

    JsonNode node(String key) {
        for (String name : aliases(key)) {
            JsonNode n = lookup(name);
            if (n != null && !n.isNull()) return n;
        }
        Object d = family.configDefaults().get(key);
        return d == null ? null : new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(d);
    }

    private JsonNode lookup(String dotted) {
        JsonNode n = root;
        for (String part : dotted.split("\\.")) n = n == null ? null : n.get(part);
        return n;
    }

    boolean present(String key) { return node(key) != null; }

    /** The HF key the file used for {@code key}, or all aliases when none is present. */
    String shown(String key) {
        for (String name : aliases(key)) {
            JsonNode n = lookup(name);
            if (n != null && !n.isNull()) return name;
        }
        return String.join("\" or \"", aliases(key));
    }

    RoutecalException error(String key, String problem) {
        return new RoutecalException(where + ": field \"" + shown(key) + "\" " + problem);
    }

    /** An integer in [min, max]; absent → {@code dflt} (null = required). */
    int boundedInt(String key, Integer dflt, int min, int max) {
        JsonNode n = node(key);
        if (n == null) {
            if (dflt != null) return dflt;
            throw error(key, "is missing");
        }
        if (!n.isIntegralNumber()) throw error(key, "must be an integer, got " + n);
        if (!n.canConvertToLong() || n.asLong() < min) {
            throw error(key, "must be " + (min == 1 ? "positive" : min == 0 ? "non-negative" : "at least " + min) + ", got " + n);
        }
        if (n.asLong() > max) {
            throw error(key, "is " + n + ", implausible for this field (at most " + max + ")");
        }
        return (int) n.asLong();
    }

    double finiteDouble(String key, double dflt) {
        JsonNode n = node(key);
        if (n == null) return dflt;
        if (!n.isNumber()) throw error(key, "must be a number, got " + n);
        double v = n.asDouble();
        if (!Double.isFinite(v)) throw error(key, "must be finite, got " + n);
        return v;
    }

    /** A finite number > 0; absent → {@code dflt} (null = required). */
    double positiveDouble(String key, Double dflt) {
        JsonNode n = node(key);
        if (n == null) {
            if (dflt != null) return dflt;
            throw error(key, "is missing");
        }
        double v = finiteDouble(key, Double.NaN);
        if (!(v > 0)) throw error(key, "must be positive, got " + n);
        return v;
    }

    boolean boolOr(String key, boolean dflt) {
        JsonNode n = node(key);
        if (n == null) return dflt;
        if (!n.isBoolean()) throw error(key, "must be true or false, got " + n);
        return n.asBoolean();
    }

    /** A list of layer indices, each in [0, layers). */
    Set<Integer> layerSet(String key, int layers) {
        JsonNode n = node(key);
        if (n == null) return Set.of();
        if (!n.isArray()) throw error(key, "must be a list of layer indices, got " + n);
        Set<Integer> out = new HashSet<>();
        for (JsonNode e : n) {
            if (!e.isIntegralNumber() || e.asLong() < 0 || e.asLong() >= layers) {
                throw error(key, "lists " + e + ", not a layer index in [0, " + layers + ")");
            }
            out.add(e.asInt());
        }
        return Set.copyOf(out);
    }

    /** Llama 4: {@code moe_layers}, or every {@code interleave_moe_layer_step}-th layer as transformers derives it. */
    Set<Integer> moeLayers(int layers) {
        if (present("moe_layers")) return layerSet("moe_layers", layers);
        int step = boundedInt("interleave_moe_layer_step", 1, 1, layers);
        Set<Integer> out = new HashSet<>();
        for (int l = step - 1; l < layers; l += step) out.add(l);
        return Set.copyOf(out);
    }

    ModelConfig.Mla mla() {
        int qRank = present("q_lora_rank") ? boundedInt("q_lora_rank", null, 1, ModelConfig.MAX_WIDTH) : 0;
        int kvRank = boundedInt("kv_lora_rank", null, 1, ModelConfig.MAX_WIDTH);
        int nope = boundedInt("qk_nope_head_dim", null, 0, ModelConfig.MAX_WIDTH);
        int ropeDim = boundedInt("qk_rope_head_dim", null, 1, ModelConfig.MAX_WIDTH);
        if (ropeDim % 2 != 0) throw error("qk_rope_head_dim", "must be even (RoPE rotates pairs), got " + ropeDim);
        int v = boundedInt("v_head_dim", null, 1, ModelConfig.MAX_WIDTH);
        return new ModelConfig.Mla(qRank, kvRank, nope, ropeDim, v);
    }

    /** RoPE over {@code headDim} (the rotated part of a head: MLA's qk_rope_head_dim). */
    ModelConfig.Rope rope(int headDim) {
        double theta = positiveDouble("rope_theta", 10000.0);
        double partial = finiteDouble("partial_rotary_factor", 1.0);
        if (!(partial > 0 && partial <= 1)) throw error("partial_rotary_factor", "must be in (0, 1], got " + partial);
        int rotary = (int) (headDim * partial);
        if (rotary < 2 || rotary % 2 != 0) {
            throw error(present("head_dim") ? "head_dim" : "partial_rotary_factor", "gives " + rotary
                    + " rotary dimensions (head_dim " + headDim + " × partial_rotary_factor " + partial + "); RoPE rotates pairs, so it must be even and positive");
        }
        JsonNode s = node("rope_scaling");
        if (s == null || !s.isObject()) return ModelConfig.Rope.defaults(theta, partial);
        String prefix = shown("rope_scaling") + ".";
        String type = s.has("rope_type") ? s.get("rope_type").asText() : s.has("type") ? s.get("type").asText() : "default";
        if (!List.of("default", "linear", "dynamic", "yarn", "llama3").contains(type)) {
            throw new RoutecalException(where + ": field \"" + prefix + "rope_type\" \"" + type + "\" is not supported (default, linear, dynamic, yarn, llama3)");
        }
        if (s.has("rope_theta") && !s.get("rope_theta").isNull()) {
            theta = s.get("rope_theta").asDouble();
            if (!(theta > 0) || !Double.isFinite(theta)) throw new RoutecalException(where + ": field \"" + prefix + "rope_theta\" must be positive, got " + s.get("rope_theta"));
        }
        if (type.equals("default")) return ModelConfig.Rope.defaults(theta, partial);
        double factor = ropeNumber(s, prefix, "factor", 1.0, true);
        double original = ropeNumber(s, prefix, "original_max_position_embeddings",
                boundedInt("max_position_embeddings", 32768, 1, Integer.MAX_VALUE), true);
        double low = ropeNumber(s, prefix, "low_freq_factor", 1, true), high = ropeNumber(s, prefix, "high_freq_factor", 4, true);
        if (type.equals("llama3") && !(high > low)) {
            throw new RoutecalException(where + ": field \"" + prefix + "high_freq_factor\" (" + high + ") must exceed low_freq_factor (" + low + ")");
        }
        Double attention = s.hasNonNull("attention_factor") ? ropeNumber(s, prefix, "attention_factor", 1, true) : null;
        Double mscale = s.hasNonNull("mscale") ? ropeNumber(s, prefix, "mscale", 1, false) : null;
        Double mscaleAll = s.hasNonNull("mscale_all_dim") ? ropeNumber(s, prefix, "mscale_all_dim", 0, false) : null;
        JsonNode truncate = s.get("truncate");
        if (truncate != null && !truncate.isNull() && !truncate.isBoolean()) {
            throw new RoutecalException(where + ": field \"" + prefix + "truncate\" must be true or false, got " + truncate);
        }
        return new ModelConfig.Rope(theta, type, factor, original,
                ropeNumber(s, prefix, "beta_fast", 32, false), ropeNumber(s, prefix, "beta_slow", 1, false),
                low, high, attention, partial, mscale, mscaleAll, truncate == null || truncate.isNull() || truncate.asBoolean());
    }

    private double ropeNumber(JsonNode s, String prefix, String key, double dflt, boolean positive) {
        JsonNode n = s.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isNumber() || !Double.isFinite(n.asDouble())) {
            throw new RoutecalException(where + ": field \"" + prefix + key + "\" must be a finite number, got " + n);
        }
        if (positive && !(n.asDouble() > 0)) throw new RoutecalException(where + ": field \"" + prefix + key + "\" must be positive, got " + n);
        return n.asDouble();
    }

    /** Per-layer attention span, window sizes and NoPE layers, by the family's {@link Attention.LayerTypes} rule. */
    record LayerPattern(List<ModelConfig.LayerAttention> types, int slidingWindow, int chunkSize, Set<Integer> noRope) {}

    LayerPattern layerPattern(int layers) {
        List<ModelConfig.LayerAttention> types = new ArrayList<>();
        Set<Integer> noRope = new HashSet<>();
        switch (family.attention().layerTypes()) {
            case ALL_FULL -> fill(types, layers, ModelConfig.LayerAttention.FULL);
            case SLIDING_WHEN_SET -> fill(types, layers, windowSet() ? ModelConfig.LayerAttention.SLIDING : ModelConfig.LayerAttention.FULL);
            case SLIDING_WHEN_FLAG -> fill(types, layers, boolOr("use_sliding_window", false) && windowSet()
                    ? ModelConfig.LayerAttention.SLIDING : ModelConfig.LayerAttention.FULL);
            case LAYER_TYPES_OR_WINDOW_LAYERS -> {
                if (present("layer_types")) types.addAll(layerTypes(layers));
                else {
                    boolean on = boolOr("use_sliding_window", false);
                    int windowLayers = boundedInt("max_window_layers", 28, 0, Integer.MAX_VALUE);
                    for (int i = 0; i < layers; i++) {
                        types.add(on && (i + 1) % 2 != 0 && i < windowLayers ? ModelConfig.LayerAttention.SLIDING : ModelConfig.LayerAttention.FULL);
                    }
                }
            }
            case LAYER_TYPES -> {
                if (present("layer_types")) types.addAll(layerTypes(layers));
                else for (int i = 0; i < layers; i++) types.add((i + 1) % 2 != 0 ? ModelConfig.LayerAttention.SLIDING : ModelConfig.LayerAttention.FULL);
            }
            case CHUNKED_ROPE_LAYERS -> {
                List<Integer> rope = ropeLayers(layers);
                for (int i = 0; i < layers; i++) if (rope.get(i) == 0) noRope.add(i);
                if (present("layer_types")) types.addAll(layerTypes(layers));
                else {
                    boolean chunked = present("attention_chunk_size");
                    for (int i = 0; i < layers; i++) {
                        types.add(rope.get(i) == 1 && chunked ? ModelConfig.LayerAttention.CHUNKED : ModelConfig.LayerAttention.FULL);
                    }
                }
            }
        }
        int window = types.contains(ModelConfig.LayerAttention.SLIDING) ? boundedInt("sliding_window", null, 1, Integer.MAX_VALUE) : 0;
        int chunk = types.contains(ModelConfig.LayerAttention.CHUNKED) ? boundedInt("attention_chunk_size", null, 1, Integer.MAX_VALUE) : 0;
        return new LayerPattern(List.copyOf(types), window, chunk, Set.copyOf(noRope));
    }

    private boolean windowSet() {
        JsonNode n = node("sliding_window");
        return n != null && !(n.isNumber() && n.asLong() == 0);
    }

    private static void fill(List<ModelConfig.LayerAttention> types, int layers, ModelConfig.LayerAttention t) {
        for (int i = 0; i < layers; i++) types.add(t);
    }

    private List<ModelConfig.LayerAttention> layerTypes(int layers) {
        JsonNode n = node("layer_types");
        if (!n.isArray() || n.size() != layers) throw error("layer_types", "must list one type per layer (" + layers + "), got " + n);
        List<ModelConfig.LayerAttention> out = new ArrayList<>();
        for (JsonNode e : n) {
            out.add(switch (e.asText()) {
                case "full_attention" -> ModelConfig.LayerAttention.FULL;
                case "sliding_attention" -> ModelConfig.LayerAttention.SLIDING;
                case "chunked_attention" -> ModelConfig.LayerAttention.CHUNKED;
                default -> throw error("layer_types", "has \"" + e.asText() + "\": not an attention type routecal knows"
                        + " (full_attention, sliding_attention, chunked_attention)");
            });
        }
        return out;
    }

    /** Llama 4's {@code no_rope_layers} (1 = RoPE, 0 = NoPE), or transformers' default from no_rope_layer_interval. */
    private List<Integer> ropeLayers(int layers) {
        List<Integer> out = new ArrayList<>();
        JsonNode n = node("no_rope_layers");
        if (n != null && n.isArray() && n.size() > 0) {
            if (n.size() < layers) throw error("no_rope_layers", "has " + n.size() + " entries for " + layers + " layers");
            for (int i = 0; i < layers; i++) {
                JsonNode e = n.get(i);
                if (!e.isIntegralNumber() || (e.asInt() != 0 && e.asInt() != 1)) throw error("no_rope_layers", "entries must be 0 or 1, got " + e);
                out.add(e.asInt());
            }
            return out;
        }
        int interval = boundedInt("no_rope_layer_interval", 4, 1, Integer.MAX_VALUE);
        for (int i = 0; i < layers; i++) out.add((i + 1) % interval != 0 ? 1 : 0);
        return out;
    }
}
