package org.routecal.kernel;

import org.routecal.io.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Run defaults set by {@code %%config}: option values that every later magic uses unless its own line gives them.
 * The block is YAML or JSON; a key is an option's long name without dashes ({@code model: path/to/model}) and applies
 * to every command that has that option, or a command name holding such keys ({@code route: {samples-per-domain: 8}})
 * and applies to that command only. Keys are checked against the commands' real options, so a typo is an error that
 * names it. Applied through picocli's default-value provider, so defaults go through the same parsing and validation
 * as typed options.
 */
final class RunDefaults implements CommandLine.IDefaultValueProvider {
    private static final ObjectMapper YAML = Json.YAML;
    /** option name → value, for all commands */
    private final Map<String, String> global = new LinkedHashMap<>();
    /** command → option name → value */
    private final Map<String, Map<String, String>> perCommand = new LinkedHashMap<>();

    /**
     * Merges a {@code %%config} block (or replaces the defaults when {@code replace}). {@code options} maps each magic
     * command to its long option names (without dashes). Nothing changes if any key is unknown.
     */
    void update(String text, boolean replace, Map<String, Set<String>> options) throws CellException {
        JsonNode root;
        try {
            root = text.isBlank() ? YAML.createObjectNode() : YAML.readTree(text);
        } catch (Exception e) {
            throw new CellException.UsageError("%%config: not valid YAML or JSON: " + firstLine(e.getMessage()),
                    List.of("%%config: not valid YAML or JSON: " + firstLine(e.getMessage())));
        }
        if (root == null || root.isNull()) root = YAML.createObjectNode();
        if (!root.isObject()) throw usage("%%config: the block must be a mapping of option: value");
        Map<String, String> newGlobal = new LinkedHashMap<>();
        Map<String, Map<String, String>> newPer = new LinkedHashMap<>();
        Set<String> allOptions = new TreeSet<>();
        options.values().forEach(allOptions::addAll);
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = normalize(e.getKey());
            if (options.containsKey(key) && e.getValue().isObject()) {
                Map<String, String> m = newPer.computeIfAbsent(key, k -> new LinkedHashMap<>());
                for (Iterator<Map.Entry<String, JsonNode>> it2 = e.getValue().fields(); it2.hasNext(); ) {
                    Map.Entry<String, JsonNode> o = it2.next();
                    String opt = normalize(o.getKey());
                    if (!options.get(key).contains(opt)) {
                        throw usage("%%config: command '" + key + "' has no option '" + o.getKey() + "'; its options: "
                                + String.join(", ", new TreeSet<>(options.get(key))));
                    }
                    m.put(opt, scalar(o.getValue()));
                }
            } else if (allOptions.contains(key)) {
                newGlobal.put(key, scalar(e.getValue()));
            } else {
                throw usage("%%config: unknown option '" + e.getKey() + "'; known options: "
                        + (allOptions.isEmpty() ? "(none)" : String.join(", ", allOptions)));
            }
        }
        if (replace) {
            global.clear();
            perCommand.clear();
        }
        global.putAll(newGlobal);
        newPer.forEach((k, v) -> perCommand.computeIfAbsent(k, x -> new LinkedHashMap<>()).putAll(v));
    }

    /** The current defaults as YAML-ish text, for display. */
    String describe() {
        if (global.isEmpty() && perCommand.isEmpty()) return "run defaults: (none)";
        StringBuilder b = new StringBuilder("run defaults:\n");
        global.forEach((k, v) -> b.append("  ").append(k).append(": ").append(v).append('\n'));
        perCommand.forEach((c, m) -> {
            b.append("  ").append(c).append(":\n");
            m.forEach((k, v) -> b.append("    ").append(k).append(": ").append(v).append('\n'));
        });
        return b.toString().stripTrailing();
    }

    @Override
    public String defaultValue(ArgSpec argSpec) {
        if (!(argSpec instanceof OptionSpec o) || o.command() == null) return null;
        String name = normalize(o.longestName());
        Map<String, String> own = perCommand.get(o.command().name());
        if (own != null && own.containsKey(name)) return own.get(name);
        return global.get(name);
    }

    /** Long option names of a command, without dashes (the keys {@code %%config} accepts). */
    static Set<String> optionNames(CommandLine.Model.CommandSpec spec) {
        Set<String> names = new TreeSet<>();
        for (OptionSpec o : spec.options()) {
            if (o.usageHelp() || o.versionHelp()) continue;
            names.add(normalize(o.longestName()));
        }
        return names;
    }

    private static String normalize(String key) {
        String k = key.strip();
        while (k.startsWith("-")) k = k.substring(1);
        return k.replace('_', '-');
    }

    /** Lists become picocli's comma-separated form; everything else its text. */
    private static String scalar(JsonNode v) {
        if (v.isArray()) {
            List<String> parts = new ArrayList<>();
            v.forEach(x -> parts.add(x.asText()));
            return String.join(",", parts);
        }
        return v.isNull() ? null : v.asText();
    }

    private static CellException usage(String message) {
        return new CellException.UsageError(message, List.of(message));
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
