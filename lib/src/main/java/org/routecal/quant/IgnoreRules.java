package org.routecal.quant;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.routecal.RoutecalException;
import org.routecal.model.family.MoeFamily;

/**
 * Which Linear modules stay unquantized, written as compressed-tensors / llm-compressor write them: an exact module
 * name, or {@code re:REGEX} applied like Python's {@code re.match} — anchored at the start only, so a rule must end
 * in {@code $} to stop {@code re:.*mlp.gate} from also matching {@code mlp.gate_proj}. Embeddings and norms are not
 * Linear modules and are never quantized, so they need no rule.
 */
public final class IgnoreRules {
    private final List<String> rules;
    private final List<Pattern> patterns; // null entry = exact rule

    private IgnoreRules(List<String> rules) {
        this.rules = List.copyOf(rules);
        this.patterns = new ArrayList<>();
        for (String r : rules) {
            if (r.startsWith("re:")) {
                try {
                    patterns.add(Pattern.compile(r.substring(3)));
                } catch (PatternSyntaxException e) {
                    throw new RoutecalException("ignore rule \"" + r + "\" is not a valid regular expression: " + e.getDescription());
                }
            } else {
                patterns.add(null);
            }
        }
    }

    public static IgnoreRules of(List<String> rules) {
        return new IgnoreRules(rules);
    }

    /**
     * The family's defaults (research/llmcompressor.md §4), what vLLM's loaders build unquantized:
     * <ul>
     *   <li>routers (vLLM: ReplicatedLinear or nn.Linear with quant_config=None; a router bias belongs to the router
     *       module) and Qwen2-MoE's shared-expert gate;</li>
     *   <li>MLA's small projections: q_a_proj and kv_a_proj_with_mqa, which vLLM fuses into one replicated
     *       fused_qkv_a_proj (both must share a scheme, and they are small next to q_b/o), and kv_b_proj, which its
     *       MLA backend absorbs into the attention at load (a quantized kv_b is dequantized again: only error, no
     *       saving);</li>
     *   <li>lm_head.</li>
     * </ul>
     * Embeddings, norms, attention sinks and score-correction biases are not Linear modules and need no rule.
     */
    public static List<String> familyDefaults(MoeFamily family) {
        List<String> out = new ArrayList<>();
        MoeFamily.Tensors t = family.tensors();
        for (String template : new String[]{t.router(), t.sharedExpertGate(), t.qAProj(), t.kvAProj(), t.kvBProj()}) {
            if (template != null) out.add("re:" + templateRegex(template));
        }
        if (t.lmHead() != null) out.add(module(t.lmHead()));
        return out;
    }

    /** "model.layers.{layer}.mlp.gate.weight" → {@code .*model\.layers\.\d+\.mlp\.gate$}. */
    static String templateRegex(String tensorTemplate) {
        String m = module(tensorTemplate);
        StringBuilder sb = new StringBuilder();
        for (String part : m.split("(?=\\{)|(?<=\\})")) {
            if (part.equals("{layer}") || part.equals("{expert}")) sb.append("\\d+");
            else sb.append(Pattern.quote(part).replace("\\Q", "").replace("\\E", "").replace(".", "\\."));
        }
        return sb.append('$').toString();
    }

    static String module(String tensorName) {
        return tensorName.endsWith(".weight") ? tensorName.substring(0, tensorName.length() - ".weight".length()) : tensorName;
    }

    public List<String> rules() {
        return rules;
    }

    /** True when a rule matches the module. */
    public boolean ignores(String module) {
        for (int i = 0; i < rules.size(); i++) {
            Pattern p = patterns.get(i);
            if (p == null ? rules.get(i).equals(module) : p.matcher(module).lookingAt()) return true;
        }
        return false;
    }

    /** Rules that match none of {@code modules} (the caller warns: usually a typo or a missing {@code .*}). */
    public List<String> unmatched(Collection<String> modules) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            Pattern p = patterns.get(i);
            String r = rules.get(i);
            boolean hit = p == null ? modules.contains(r) : modules.stream().anyMatch(m -> p.matcher(m).lookingAt());
            if (!hit) out.add(r);
        }
        return out;
    }
}
