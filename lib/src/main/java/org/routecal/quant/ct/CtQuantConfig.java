package org.routecal.quant.ct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.routecal.RoutecalException;
import org.routecal.io.Json;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.scheme.Fp8Scheme;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.ScaleDType;

/**
 * The {@code quantization_config} block of config.json (research/llmcompressor.md §3.5): config groups (a scheme and
 * the modules it targets), the format, and the explicit ignore list. Optional keys that are null (block_structure,
 * scale_dtype, zp_dtype) are left out, so compressed-tensors ≤ 0.12 (pydantic extra="forbid") and newer both parse it.
 *
 * <p>Mixed precision is several groups: one targets {@code "Linear"} (the default width), the others list the
 * modules that deviate, as exact names or {@code re:} patterns (see {@link CtTargets}). A module takes the group of its
 * most specific matching target, as compressed-tensors' {@code match_targets} orders them: exact name, then regex
 * (alphabetically), then the class name {@code Linear}. vLLM's {@code find_matched_target} also puts name matches
 * before class matches.
 *
 * @param groups   config groups, written as group_0, group_1, … in this order
 * @param actOrder GPTQ act-order (null/NONE for RTN); written only on group-wise int groups
 * @param ignore   Linear modules left unquantized, explicit names
 */
public record CtQuantConfig(List<Group> groups, ActOrder actOrder, List<String> ignore) {
    /** The compressed-tensors version whose schema we write. */
    public static final String CT_VERSION = "0.18.0";
    /** The class-name target every Linear module matches. */
    public static final String LINEAR = "Linear";
    private static final ObjectMapper JSON = Json.MAPPER;

    /**
     * One config group.
     *
     * @param scheme  the weight grid (its scale dtype is the model's; only the semantic fields are written)
     * @param targets {@code "Linear"}, exact module names, or {@code re:REGEX} (Python re.match: anchored at the start)
     */
    public record Group(QuantScheme scheme, List<String> targets) {
        public Group {
            targets = List.copyOf(targets);
            if (targets.isEmpty()) throw new IllegalArgumentException("a config group needs at least one target");
        }
    }

    public CtQuantConfig {
        groups = List.copyOf(groups);
        ignore = List.copyOf(ignore);
        if (groups.isEmpty()) throw new IllegalArgumentException("a quantization config needs at least one group");
    }

    /** One scheme for every Linear module. */
    public CtQuantConfig(QuantScheme scheme, ActOrder actOrder, List<String> ignore) {
        this(List.of(new Group(scheme, List.of(LINEAR))), actOrder, ignore);
    }

    /**
     * A mixed-precision config: {@code base} for every Linear module, and one group per other scheme in
     * {@code overrides} (module name → scheme) whose targets are compact patterns matching exactly those modules.
     */
    public static CtQuantConfig mixed(QuantScheme base, Map<String, QuantScheme> overrides, ActOrder actOrder, List<String> ignore) {
        Map<QuantScheme, List<String>> byScheme = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, QuantScheme> e : new java.util.TreeMap<>(overrides).entrySet()) {
            if (!e.getValue().equals(base)) byScheme.computeIfAbsent(e.getValue(), k -> new ArrayList<>()).add(e.getKey());
        }
        List<Group> groups = new ArrayList<>();
        groups.add(new Group(base, List.of(LINEAR)));
        byScheme.forEach((s, modules) -> groups.add(new Group(s, CtTargets.compact(modules))));
        return new CtQuantConfig(groups, actOrder, ignore);
    }

    /** The scheme of the first group (for a single-group config: the scheme). */
    public QuantScheme scheme() {
        return groups.get(0).scheme();
    }

    /** The format of one scheme. */
    public static CtFormat formatOf(QuantScheme s) {
        if (s instanceof IntScheme) return CtFormat.PACK_QUANTIZED;
        if (s instanceof Fp8Scheme) return CtFormat.NAIVE_QUANTIZED;
        return CtFormat.NVFP4_PACK_QUANTIZED;
    }

    /** The top-level format: the groups' common format, or {@code mixed-precision} when they differ. */
    public String formatId() {
        Set<CtFormat> f = new LinkedHashSet<>();
        for (Group g : groups) f.add(formatOf(g.scheme()));
        return f.size() == 1 ? f.iterator().next().id : CtFormat.MIXED_PRECISION_ID;
    }

    /**
     * The scheme of {@code module}, by compressed-tensors' target priority; an error names the module when no group
     * targets it.
     */
    public QuantScheme schemeOf(String module) {
        Group g = groupOf(module);
        if (g == null) throw new RoutecalException("module " + module + " is stored quantized but no quantization_config group targets it");
        return g.scheme();
    }

    /** The scheme of {@code module} with the scale dtype its stored scales have (NVFP4: the model dtype of its values). */
    public QuantScheme schemeFor(String module, ScaleDType scaleDtype) {
        return withDtype(schemeOf(module), scaleDtype);
    }

    static QuantScheme withDtype(QuantScheme s, ScaleDType scaleDtype) {
        if (s instanceof IntScheme is) return new IntScheme(is.bits(), is.symmetric(), is.groupSize(), scaleDtype);
        if (s instanceof Fp8Scheme fs) return new Fp8Scheme(fs.perTensor(), scaleDtype);
        return new Nvfp4Scheme(scaleDtype);
    }

    /** The group whose most specific target matches {@code module} (Linear modules only), or null. */
    Group groupOf(String module) {
        Group byRegex = null, byClass = null;
        String bestRegex = null;
        for (Group g : groups) {
            for (String t : g.targets()) {
                if (t.equals(module)) return g;
                if (t.startsWith("re:")) {
                    // compressed-tensors sorts regex targets alphabetically and takes the first that matches
                    if (CtTargets.matches(t, module) && (bestRegex == null || t.compareTo(bestRegex) < 0)) {
                        bestRegex = t;
                        byRegex = g;
                    }
                } else if (t.equals(LINEAR) && byClass == null) {
                    byClass = g;
                }
            }
        }
        return byRegex != null ? byRegex : byClass;
    }

    public ObjectNode toJson() {
        ObjectNode qc = JSON.createObjectNode();
        ObjectNode cg = qc.putObject("config_groups");
        for (int i = 0; i < groups.size(); i++) cg.set("group_" + i, groupJson(groups.get(i)));
        qc.put("format", formatId());
        qc.putNull("global_compression_ratio");
        ArrayNode ig = qc.putArray("ignore");
        ignore.forEach(ig::add);
        qc.putNull("kv_cache_scheme");
        qc.put("quant_method", "compressed-tensors");
        qc.put("quantization_status", "compressed");
        qc.putObject("sparsity_config");
        qc.putObject("transform_config");
        qc.put("version", CT_VERSION);
        return qc;
    }

    private ObjectNode groupJson(Group g) {
        QuantScheme scheme = g.scheme();
        ObjectNode w = JSON.createObjectNode();
        // compressed-tensors rejects act-order on anything but group strategies
        boolean grouped = scheme instanceof IntScheme is && is.groupSize() > 0;
        String order = actOrder == null || !grouped ? null : actOrder.configValue();
        if (order == null) w.putNull("actorder"); else w.put("actorder", order);
        w.put("dynamic", false);
        if (scheme instanceof IntScheme is) {
            if (is.groupSize() > 0) w.put("group_size", is.groupSize()); else w.putNull("group_size");
            w.put("num_bits", is.bits());
            w.put("observer", "minmax");
            w.put("strategy", is.groupSize() > 0 ? "group" : "channel");
            w.put("symmetric", is.symmetric());
            w.put("type", "int");
        } else if (scheme instanceof Fp8Scheme fs) {
            w.putNull("group_size");
            w.put("num_bits", 8);
            w.put("observer", "minmax");
            w.put("strategy", fs.perTensor() ? "tensor" : "channel");
            w.put("symmetric", true);
            w.put("type", "float");
        } else {
            w.put("group_size", Nvfp4Scheme.GROUP_SIZE);
            w.put("num_bits", 4);
            w.put("observer", "minmax");
            w.put("strategy", "tensor_group");
            w.put("symmetric", true);
            w.put("type", "float");
        }
        w.putObject("observer_kwargs");
        ObjectNode group = JSON.createObjectNode();
        group.put("format", formatOf(scheme).id);
        group.putNull("input_activations");
        group.putNull("output_activations");
        ArrayNode targets = group.putArray("targets");
        g.targets().forEach(targets::add);
        group.set("weights", w);
        return group;
    }

    /** Parses a quantization_config block we can decode; errors name {@code where} and the field. */
    public static CtQuantConfig fromJson(JsonNode qc, String where) {
        if (qc == null || !"compressed-tensors".equals(qc.path("quant_method").asText())) {
            throw new RoutecalException(where + ": quantization_config.quant_method is not \"compressed-tensors\"");
        }
        JsonNode groupsNode = qc.path("config_groups");
        if (groupsNode.size() == 0) throw new RoutecalException(where + ": quantization_config.config_groups is empty");
        List<Group> groups = new ArrayList<>();
        ActOrder order = ActOrder.NONE;
        for (Iterator<Map.Entry<String, JsonNode>> it = groupsNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String at = where + ": quantization_config.config_groups." + e.getKey();
            JsonNode w = e.getValue().path("weights");
            QuantScheme s = schemeFromJson(w, at);
            List<String> targets = new ArrayList<>();
            for (JsonNode t : e.getValue().path("targets")) targets.add(t.asText());
            if (targets.isEmpty()) throw new RoutecalException(at + ".targets is missing or empty");
            for (String t : targets) {
                if (t.startsWith("re:")) {
                    try {
                        Pattern.compile(t.substring(3));
                    } catch (PatternSyntaxException ex) {
                        throw new RoutecalException(at + ": target \"" + t + "\" is not a valid regular expression: " + ex.getDescription());
                    }
                }
            }
            groups.add(new Group(s, targets));
            JsonNode ao = w.path("actorder");
            if (!ao.isNull() && !ao.isMissingNode()) order = ActOrder.parse(ao.asText());
        }
        checkPackingVersion(qc.path("version").asText(""), groups, where);
        List<String> ignore = new ArrayList<>();
        for (Iterator<JsonNode> it = qc.path("ignore").elements(); it.hasNext(); ) ignore.add(it.next().asText());
        return new CtQuantConfig(groups, order, ignore);
    }

    /**
     * compressed-tensors before 0.18 packed {@code 32 // bits} values per int32 word and left the rest zero; 0.18
     * packs densely across word boundaries. The two agree only for 1, 2, 4 and 8 bits, so an older checkpoint at another
     * width would decode to wrong codes: refuse it by name instead.
     */
    static void checkPackingVersion(String version, List<Group> groups, String where) {
        java.util.regex.Matcher m = Pattern.compile("(\\d+)\\.(\\d+)").matcher(version);
        if (!m.lookingAt()) return; // no version: written by us or by a current compressed-tensors
        int major = Integer.parseInt(m.group(1)), minor = Integer.parseInt(m.group(2));
        if (major > 0 || minor >= 18) return;
        for (Group g : groups) {
            if (g.scheme() instanceof IntScheme is && 32 % is.bits() != 0) {
                throw new RoutecalException(where + ": quantization_config.version " + version + " packs " + is.bits()
                        + "-bit weights " + 32 / is.bits() + " per int32 word (compressed-tensors < 0.18); routecal reads the dense "
                        + "packing of 0.18 and later — re-export the checkpoint with compressed-tensors ≥ 0.18");
            }
        }
    }

    private static QuantScheme schemeFromJson(JsonNode w, String where) {
        String type = w.path("type").asText(), strategy = w.path("strategy").asText();
        int bits = w.path("num_bits").asInt();
        if (type.equals("int")) {
            if (!strategy.equals("group") && !strategy.equals("channel")) {
                throw new RoutecalException(where + ": weights.strategy \"" + strategy + "\" is not supported for int (group, channel)");
            }
            if (bits < 2 || bits > 8) throw new RoutecalException(where + ": weights.num_bits " + bits + " is not an int width we decode (2..8)");
            int gs = strategy.equals("group") ? w.path("group_size").asInt() : 0;
            return new IntScheme(bits, w.path("symmetric").asBoolean(true), gs, ScaleDType.BF16);
        }
        if (type.equals("float") && bits == 8) {
            if (!strategy.equals("tensor") && !strategy.equals("channel")) {
                throw new RoutecalException(where + ": weights.strategy \"" + strategy
                        + "\" is not a scheme routecal writes for FP8 (tensor, channel); FP8 blocks are read by CompressedTensorsReader only");
            }
            return new Fp8Scheme(strategy.equals("tensor"), ScaleDType.BF16);
        }
        if (type.equals("float") && bits == 4 && strategy.equals("tensor_group")) return new Nvfp4Scheme();
        throw new RoutecalException(where + ": weights {type " + type + ", num_bits " + bits + ", strategy " + strategy
                + "} is not a scheme we decode");
    }
}
