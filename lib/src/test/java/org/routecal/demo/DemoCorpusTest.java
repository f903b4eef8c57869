package org.routecal.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoCorpusTest {
    private static final Set<String> STARVED_SCRIPTS = Set.of("el", "ru", "uk", "bg", "zh", "ja", "ko");

    @Test
    void committedResourcesAreWhatTheGeneratorWrites() {
        List<List<DemoSample>> both = DemoCorpus.generate();
        assertArrayEquals(DemoCorpus.toJsonl(both.get(0)), DemoCorpus.corpusBytes(), "corpus.jsonl is stale: rerun DemoCorpus.main");
        assertArrayEquals(DemoCorpus.toJsonl(both.get(1)), DemoCorpus.poolBytes(), "pool.jsonl is stale: rerun DemoCorpus.main");
    }

    @Test
    void corpusIsSmallSkewedAndDistinctFromThePool() throws Exception {
        assertTrue(DemoCorpus.corpusBytes().length <= 1_000_000, "corpus must stay under 1 MB");
        List<JsonNode> corpus = rows(DemoCorpus.corpusBytes()), pool = rows(DemoCorpus.poolBytes());
        assertTrue(pool.size() > 3 * corpus.size() / 2, "the pool is larger than the corpus");
        Set<String> ids = new HashSet<>(), texts = new HashSet<>();
        for (JsonNode row : concat(corpus, pool)) {
            assertTrue(ids.add(row.get("sample_id").asText()), "duplicate id " + row.get("sample_id"));
            assertTrue(texts.add(row.has("text") ? row.get("text").asText() : row.get("messages").toString()),
                    "duplicate content in " + row.get("sample_id"));
            assertTrue(row.has("text") ^ row.has("messages"), "exactly one of text/messages in " + row.get("sample_id"));
        }
        Map<String, Integer> corpusDomains = count(corpus, "domain"), poolDomains = count(pool, "domain");
        assertEquals(Set.of("chat", "code", "math", "stem", "multilingual"), corpusDomains.keySet());
        assertEquals(corpusDomains.keySet(), poolDomains.keySet());
        double corpusShare = share(corpus), poolShare = share(pool);
        assertTrue(corpusShare > 0 && corpusShare < 0.01, "corpus has a few Greek/Cyrillic/CJK samples: " + corpusShare);
        assertTrue(poolShare > 0.3, "pool is rich in Greek/Cyrillic/CJK: " + poolShare);
        for (String lang : STARVED_SCRIPTS) assertTrue(count(pool, "language").getOrDefault(lang, 0) >= 100, lang);
    }

    private static double share(List<JsonNode> rows) {
        return rows.stream().filter(r -> STARVED_SCRIPTS.contains(r.get("language").asText())).count() / (double) rows.size();
    }

    private static Map<String, Integer> count(List<JsonNode> rows, String field) {
        Map<String, Integer> m = new TreeMap<>();
        for (JsonNode r : rows) m.merge(r.get(field).asText(), 1, Integer::sum);
        return m;
    }

    static List<JsonNode> rows(byte[] jsonl) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        for (String line : new String(jsonl, StandardCharsets.UTF_8).split("\n")) out.add(json.readTree(line));
        return out;
    }

    private static List<JsonNode> concat(List<JsonNode> a, List<JsonNode> b) {
        List<JsonNode> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
