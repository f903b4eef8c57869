package org.routecal.model.family;

import org.routecal.compute.RouterRule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A declarative description of one MoE architecture family (STYLE H1): names, layout and rules, no code. One generic
 * loader and one forward pass walk this table; entries live in {@link Families} and are written with
 * {@link #builder}, one named part at a time, so an entry reads like the model card and a new family is
 * copy-and-edit (docs/howto/add-a-family.md).
 *
 * @param name           family name used in messages and manifests
 * @param modelTypes     HF {@code model_type} values this table serves
 * @param configAliases  our config key → HF keys to try in order (transformers 4 and 5 spellings)
 * @param configDefaults values transformers' config class assumes when a key is absent, where they differ by family
 *                       (e.g. GLM-4.5's {@code partial_rotary_factor} 0.5)
 * @param attention      attention variant, its norms, biases and per-layer pattern
 * @param tensors        tensor-name templates (see {@link Tensors})
 * @param experts        how routed experts are stored and activated
 * @param router         which router rule the config resolves to
 * @param sharedExpert   the always-on expert, if any
 * @param denseLayers    which layers run a dense MLP instead of an MoE block
 * @param mtpLayers      the checkpoint may carry {@code num_nextn_predict_layers} multi-token-prediction layers after
 *                       the last decoder layer (DeepSeek-V3, GLM-4.5): claimed by the table, never loaded (transformers
 *                       ignores them too)
 * @param exportConfigDefaults config.json keys an exported checkpoint needs for vLLM and that transformers 5's
 *                       save_pretrained no longer writes (DeepSeek-V3: scoring_func, topk_method); added when absent
 */
public record MoeFamily(String name, List<String> modelTypes, Map<String, List<String>> configAliases,
                        Map<String, Object> configDefaults, Attention attention, Tensors tensors, ExpertLayout experts,
                        RouterSpec router, SharedExpert sharedExpert, DenseLayers denseLayers, boolean mtpLayers,
                        Map<String, Object> exportConfigDefaults) {

    public MoeFamily {
        modelTypes = List.copyOf(modelTypes);
        configAliases = Map.copyOf(configAliases);
        configDefaults = Map.copyOf(configDefaults);
        exportConfigDefaults = Map.copyOf(exportConfigDefaults);
    }

    /**
     * Tensor-name templates in HF checkpoint names (STYLE H14), with {@code {layer}} and {@code {expert}}; null = the
     * family has no such tensor. Linear modules (q/k/v/o, MLA projections, per-expert, shared and dense gate/up/down)
     * are module names (the tensor name without ".weight"/".bias"); everything else is a full tensor name.
     * Packed families also name the per-expert Linear modules their experts are exported as ({@code exportExpert*},
     * with {expert}): compressed-tensors quantizes Linear modules, and llm-compressor and vLLM's loaders name a
     * packed family's quantized experts {@code experts.{expert}.gate_proj / up_proj / down_proj}.
     * Built through {@link #builder()}; {@link Builder#build} of the family checks that the names its parts need are
     * there and that no name is set that no part uses.
     */
    public record Tensors(
            String embed, String inputNorm, String postAttentionNorm, String finalNorm, String lmHead,
            String qProj, String kProj, String vProj, String oProj, String qNorm, String kNorm, String sinks,
            String qAProj, String qANorm, String qBProj, String kvAProj, String kvANorm, String kvBProj,
            String router, String routerBias, String routerScoreCorrectionBias,
            String expertGate, String expertUp, String expertDown,
            String expertGateUp, String expertGateUpBias, String expertDownBias,
            String sharedGate, String sharedUp, String sharedDown, String sharedExpertGate,
            String denseGate, String denseUp, String denseDown,
            String exportExpertGate, String exportExpertUp, String exportExpertDown) {

        public static TensorsBuilder builder() { return new TensorsBuilder(); }

        /** Every template that is set, by field name (for the build check and for tests). */
        public Map<String, String> present() {
            Map<String, String> m = new HashMap<>();
            for (var c : Tensors.class.getRecordComponents()) {
                try {
                    Object v = c.getAccessor().invoke(this);
                    if (v != null) m.put(c.getName(), (String) v);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
            return m;
        }
    }

    public static Builder builder(String name) { return new Builder(name); }

    /** The router rule for one model (the rule kind is the table's, its numbers the config's). */
    public RouterRule routerRule(ModelConfig config) { return router.rule(config); }

    public boolean hasSharedExpert() { return sharedExpert.present(); }

    public Optional<String> modelTypeMatch(String modelType) {
        return modelTypes.stream().filter(t -> t.equals(modelType)).findFirst();
    }

    /** Fills {@code {layer}} and {@code {expert}} in a template. */
    public static String name(String template, int layer, int expert) {
        return template.replace("{layer}", Integer.toString(layer)).replace("{expert}", Integer.toString(expert));
    }

    /** Named construction of a family entry; {@link #build} checks the parts against the tensor names. */
    public static final class Builder {
        private final String name;
        private List<String> modelTypes = List.of();
        private final Map<String, List<String>> aliases = new HashMap<>();
        private final Map<String, Object> defaults = new HashMap<>();
        private final Map<String, Object> exportDefaults = new HashMap<>();
        private Attention attention;
        private Tensors tensors;
        private ExpertLayout experts;
        private RouterSpec router;
        private SharedExpert sharedExpert = SharedExpert.none();
        private DenseLayers denseLayers = DenseLayers.none();
        private boolean mtpLayers;

        private Builder(String name) { this.name = name; }

        public Builder modelTypes(String... types) { this.modelTypes = List.of(types); return this; }

        /** Our key is read from these HF keys, in order (replaces the common alias list for that key). */
        public Builder alias(String ourKey, String... hfKeys) { aliases.put(ourKey, List.of(hfKeys)); return this; }

        /** The value transformers' config class assumes for {@code key} when config.json lacks it. */
        public Builder configDefault(String key, Object value) { defaults.put(key, value); return this; }

        /** A config.json key vLLM needs in an exported checkpoint, written when the source lacks it. */
        public Builder exportConfigDefault(String key, Object value) { exportDefaults.put(key, value); return this; }

        public Builder attention(Attention a) { this.attention = a; return this; }

        public Builder tensors(TensorsBuilder t) { this.tensors = t.build(); return this; }

        public Builder experts(ExpertLayout e) { this.experts = e; return this; }

        public Builder router(RouterSpec r) { this.router = r; return this; }

        public Builder sharedExpert(SharedExpert s) { this.sharedExpert = s; return this; }

        public Builder denseLayers(DenseLayers d) { this.denseLayers = d; return this; }

        public Builder mtpLayersAfterLast() { this.mtpLayers = true; return this; }

        public MoeFamily build() {
            if (modelTypes.isEmpty()) throw new IllegalStateException(name + ": no model_type");
            if (attention == null || tensors == null || experts == null || router == null) {
                throw new IllegalStateException(name + ": attention, tensors, experts and router are required");
            }
            Map<String, List<String>> all = new HashMap<>(Families.commonAliases());
            all.putAll(aliases);
            MoeFamily f = new MoeFamily(name, modelTypes, all, defaults, attention, tensors, experts, router,
                    sharedExpert, denseLayers, mtpLayers, exportDefaults);
            checkNames(f);
            return f;
        }

        /** Needed names present, no name set that no part reads (a copy-and-edit left-over), {expert} where it belongs. */
        private static void checkNames(MoeFamily f) {
            Map<String, String> present = f.tensors.present();
            List<String> needed = new ArrayList<>(List.of("embed", "inputNorm", "postAttentionNorm", "finalNorm", "lmHead", "oProj", "router"));
            if (f.attention.kind() == Attention.Kind.GQA) needed.addAll(List.of("qProj", "kProj", "vProj"));
            else needed.addAll(List.of("qAProj", "qANorm", "qBProj", "kvAProj", "kvANorm", "kvBProj"));
            // MLA with q_lora_rank null projects q directly with q_proj (DeepSeek-V2-Lite): optional
            List<String> optional = f.attention.kind() == Attention.Kind.MLA ? List.of("qProj") : List.of();
            if (f.attention.qkNorm() == Attention.QkNorm.PER_HEAD || f.attention.qkNorm() == Attention.QkNorm.WHOLE_PROJECTION) {
                needed.addAll(List.of("qNorm", "kNorm"));
            }
            if (f.attention.sinks()) needed.add("sinks");
            if (f.router.logitBias()) needed.add("routerBias");
            if (f.router.kind() == RouterSpec.Kind.SIGMOID_GROUPED) needed.add("routerScoreCorrectionBias");
            if (f.experts.packed3d()) {
                needed.addAll(List.of("expertGateUp", "expertDown", "exportExpertGate", "exportExpertUp", "exportExpertDown"));
                if (f.experts.bias()) needed.addAll(List.of("expertGateUpBias", "expertDownBias"));
            } else {
                needed.addAll(List.of("expertGate", "expertUp", "expertDown"));
            }
            if (f.sharedExpert.present()) needed.addAll(List.of("sharedGate", "sharedUp", "sharedDown"));
            if (f.sharedExpert.gate() == SharedExpert.Gate.SIGMOID) needed.add("sharedExpertGate");
            if (!f.denseLayers.rules().isEmpty()) needed.addAll(List.of("denseGate", "denseUp", "denseDown"));
            List<String> missing = needed.stream().filter(n -> !present.containsKey(n)).toList();
            List<String> unused = present.keySet().stream().filter(n -> !needed.contains(n) && !optional.contains(n)).sorted().toList();
            if (!missing.isEmpty() || !unused.isEmpty()) {
                throw new IllegalStateException(f.name + ": tensor names missing " + missing + ", set but unused " + unused);
            }
            List<String> perExpert = f.experts.packed3d() ? List.of("exportExpertGate", "exportExpertUp", "exportExpertDown")
                    : List.of("expertGate", "expertUp", "expertDown");
            for (String n : perExpert) {
                String t = present.get(n);
                if (t != null && !t.contains("{expert}")) {
                    throw new IllegalStateException(f.name + ": per-expert template " + n + " lacks {expert}: " + t);
                }
            }
            for (var e : present.entrySet()) {
                if (f.experts.packed3d() && e.getValue().contains("{expert}") && !e.getKey().startsWith("export")) {
                    throw new IllegalStateException(f.name + ": packed experts have no {expert} in " + e.getKey());
                }
            }
        }
    }
}
