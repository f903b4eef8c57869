package org.routecal.quant.ct;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * compressed-tensors config-group targets: matching, and writing a set of module names compactly. A target is an exact
 * module name, {@code Linear}, or {@code re:REGEX} applied like Python's {@code re.match} (anchored at the start only).
 *
 * <p>Listing every module of a per-expert allocation by name would write tens of thousands of targets (48 layers ×
 * 128 experts × 3 projections at Qwen3-30B-A3B geometry), which every loader then compares against every module.
 * {@link #compact} writes one regex per (module-name prefix, set of suffixes) instead, e.g.
 * {@code re:model\.layers\.3\.mlp\.experts\.(1|5|7)\.(down_proj|gate_proj|up_proj)$}: the index alternation is
 * followed by {@code \.} so {@code 1} never matches {@code 12}, and {@code $} ends it.
 */
public final class CtTargets {
    private CtTargets() {}

    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

    /** True when {@code target} matches module name {@code module} (the class target {@code Linear} is not a name match). */
    public static boolean matches(String target, String module) {
        if (!target.startsWith("re:")) return target.equals(module);
        return PATTERNS.computeIfAbsent(target, t -> Pattern.compile(t.substring(3))).matcher(module).lookingAt();
    }

    /**
     * Targets that match exactly the given module names among names of the same shape: names are split at their last
     * numeric component (the expert or layer index); names with none are listed as they are.
     */
    public static List<String> compact(Collection<String> modules) {
        // prefix → index → suffixes, all sorted so the output is deterministic
        Map<String, Map<Integer, Set<String>>> byPrefix = new TreeMap<>();
        List<String> exact = new ArrayList<>();
        for (String m : new TreeSet<>(modules)) {
            String[] parts = m.split("\\.", -1);
            int at = -1;
            for (int i = parts.length - 2; i >= 0 && at < 0; i--) if (isIndex(parts[i])) at = i;
            if (at < 0) {
                exact.add(m);
                continue;
            }
            String prefix = String.join(".", java.util.Arrays.copyOfRange(parts, 0, at));
            String suffix = String.join(".", java.util.Arrays.copyOfRange(parts, at + 1, parts.length));
            byPrefix.computeIfAbsent(prefix, k -> new TreeMap<>()).computeIfAbsent(Integer.parseInt(parts[at]), k -> new TreeSet<>()).add(suffix);
        }
        List<String> out = new ArrayList<>(exact);
        for (Map.Entry<String, Map<Integer, Set<String>>> p : byPrefix.entrySet()) {
            // indices with the same suffix set share one pattern
            Map<String, List<Integer>> bySuffixes = new TreeMap<>();
            Map<String, Set<String>> suffixSets = new TreeMap<>();
            for (Map.Entry<Integer, Set<String>> e : p.getValue().entrySet()) {
                String key = String.join("|", e.getValue());
                bySuffixes.computeIfAbsent(key, k -> new ArrayList<>()).add(e.getKey());
                suffixSets.put(key, e.getValue());
            }
            for (Map.Entry<String, List<Integer>> e : bySuffixes.entrySet()) {
                StringBuilder sb = new StringBuilder("re:");
                if (!p.getKey().isEmpty()) sb.append(escape(p.getKey())).append("\\.");
                sb.append('(');
                for (int i = 0; i < e.getValue().size(); i++) sb.append(i > 0 ? "|" : "").append(e.getValue().get(i));
                sb.append(")\\.(");
                int i = 0;
                for (String s : suffixSets.get(e.getKey())) sb.append(i++ > 0 ? "|" : "").append(escape(s));
                out.add(sb.append(")$").toString());
            }
        }
        return out;
    }

    private static boolean isIndex(String s) {
        if (s.isEmpty() || s.length() > 9) return false;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return false;
        return s.length() == 1 || s.charAt(0) != '0'; // "07" would not round-trip through the integer
    }

    /** Escapes every character but [A-Za-z0-9_] (valid and literal in both Java and Python regexes). */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128 || c == '_')) sb.append('\\');
            sb.append(c);
        }
        return sb.toString();
    }
}
