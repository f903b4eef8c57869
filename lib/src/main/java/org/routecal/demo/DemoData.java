package org.routecal.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;
import org.routecal.io.Jsonl;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * The demo's data splits, deterministic from the seed: a held-out evaluation set and a selection pool cut from the
 * candidate pool (so nothing evaluated is ever selected), the skewed set (English chat only), and "original + more"
 * — extra pool samples drawn with the original corpus's (domain, script) proportions up to a token budget, i.e. more of
 * the same distribution rather than deficit-targeted text.
 */
final class DemoData {
    private static final ObjectMapper JSON = Json.MAPPER;

    private DemoData() {}

    /** Script group of an ISO language code; the demo model's planted experts follow scripts. */
    static String script(JsonNode row) {
        String lang = row.path("language").asText("en");
        return switch (lang) {
            case "el" -> "greek";
            case "ru", "uk", "bg" -> "cyrillic";
            case "zh", "ja", "ko" -> "cjk";
            default -> "latin";
        };
    }

    /** Evaluation domain: the domain, with multilingual split by script so starved scripts show separately. */
    static String evalDomain(JsonNode row) {
        String d = row.path("domain").asText("default");
        return d.equals("multilingual") ? "multilingual-" + script(row) : d;
    }

    static String stratum(JsonNode row) { return row.path("domain").asText() + "/" + script(row); }

    /** Up to {@code perGroup} pool rows per evaluation domain, seeded; the rest is the selection pool. */
    static List<List<JsonNode>> splitPool(List<JsonNode> pool, int perGroup, long seed) {
        Map<String, List<JsonNode>> byGroup = new LinkedHashMap<>();
        for (JsonNode r : pool) byGroup.computeIfAbsent(evalDomain(r), k -> new ArrayList<>()).add(r);
        Set<JsonNode> eval = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        Random rnd = new Random(seed);
        List<JsonNode> evalRows = new ArrayList<>();
        for (List<JsonNode> rows : byGroup.values()) {
            List<JsonNode> shuffled = new ArrayList<>(rows);
            Collections.shuffle(shuffled, rnd);
            for (JsonNode r : shuffled.subList(0, Math.min(perGroup, shuffled.size()))) {
                ObjectNode copy = ((ObjectNode) r).deepCopy();
                copy.put("domain", evalDomain(r));
                evalRows.add(copy);
                eval.add(r);
            }
        }
        List<JsonNode> selection = pool.stream().filter(r -> !eval.contains(r)).collect(Collectors.toList());
        return List.of(evalRows, selection);
    }

    /**
     * Original + pool rows drawn stratum by stratum in the original's proportions until {@code budgetTokens} (the
     * compound corpus's size) is reached; a stratum the pool runs out of is skipped.
     */
    static List<JsonNode> originalPlusMore(List<JsonNode> original, List<JsonNode> pool, long originalTokens, long budgetTokens,
                                           ToIntFunction<JsonNode> tokens, long seed) {
        List<JsonNode> out = new ArrayList<>(original);
        Map<String, Long> share = original.stream().collect(Collectors.groupingBy(DemoData::stratum, LinkedHashMap::new, Collectors.counting()));
        Map<String, List<JsonNode>> byStratum = new LinkedHashMap<>();
        for (JsonNode r : pool) byStratum.computeIfAbsent(stratum(r), k -> new ArrayList<>()).add(r);
        Random rnd = new Random(seed);
        byStratum.values().forEach(l -> Collections.shuffle(l, rnd));
        // weighted round-robin over the original's strata
        List<String> wheel = new ArrayList<>();
        share.forEach((k, n) -> { for (long i = 0; i < n; i++) wheel.add(k); });
        Collections.shuffle(wheel, rnd);
        long total = originalTokens;
        Map<String, Integer> next = new LinkedHashMap<>();
        for (int i = 0; total < budgetTokens && i < wheel.size() * 4; i++) {
            String s = wheel.get(i % wheel.size());
            List<JsonNode> rows = byStratum.getOrDefault(s, List.of());
            int j = next.getOrDefault(s, 0);
            if (j >= rows.size()) continue;
            next.put(s, j + 1);
            out.add(rows.get(j));
            total += tokens.applyAsInt(rows.get(j));
        }
        return out;
    }

    static void write(Path file, List<JsonNode> rows) {
        StringBuilder sb = new StringBuilder();
        try {
            for (JsonNode r : rows) sb.append(JSON.writeValueAsString(r)).append('\n');
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    static List<JsonNode> read(Path file) { return Jsonl.read(file); }
}
