package org.routecal.synth.refine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.cli.Stages;
import org.routecal.demo.DemoAssets;
import org.routecal.io.Json;
import org.routecal.io.parquet.ParquetTableReader;
import org.routecal.route.RoutingCounts;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Refine's round 0 counts exactly what {@code route} counts on the same corpus with the same options: one reader, one
 * message type, one rendering path. The corpus mixes the row shapes that used to diverge: chat rows with
 * {@code reasoning_content} and with the reference's {@code reasoning}, numeric and missing sample_ids, a row with both
 * {@code text} and {@code messages}, a whitespace-only duplicate, and a row longer than the token limit.
 */
class RefineMatchesRouteTest {
    @Test
    void refineRoundZeroCountsEqualRouteCounts(@TempDir Path tmp) throws Exception {
        Path model = DemoAssets.ensure(tmp.resolve("cache"));
        List<Map<String, Object>> rows = new ArrayList<>();
        rows.add(Map.of("sample_id", 7, "domain", "math", "messages", List.of(
                Map.of("role", "user", "content", "Compute 2 + 3."),
                Map.of("role", "assistant", "content", "5.", "reasoning_content", "Add the two numbers: 2 + 3 = 5."))));
        rows.add(Map.of("domain", "chat", "messages", List.of(
                Map.of("role", "system", "content", "You are brief."),
                Map.of("role", "user", "content", "Hello"),
                Map.of("role", "assistant", "content", "Hi there.", "reasoning", "Greet back."))));
        rows.add(Map.of("sample_id", "both", "domain", "chat", "text", "this text is ignored",
                "messages", List.of(Map.of("role", "user", "content", "Which wins?"), Map.of("role", "assistant", "content", "Messages."))));
        rows.add(Map.of("sample_id", "code", "domain", "code", "text", "def add(a, b):\n    return a + b\n"));
        rows.add(Map.of("sample_id", "code-again", "domain", "code", "text", "def add(a, b):  \n    return a + b"));
        rows.add(Map.of("sample_id", "long", "domain", "prose", "text", "The river bends. ".repeat(60)));
        Path corpus = tmp.resolve("corpus.jsonl");
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> r : rows) sb.append(Json.MAPPER.writeValueAsString(r)).append('\n');
        Files.writeString(corpus, sb);
        Path pool = tmp.resolve("pool.jsonl");
        Files.writeString(pool, "{\"sample_id\": \"p\", \"domain\": \"prose\", \"text\": \"Rivers run to the sea.\"}\n");

        String[] corpusFlags = {"--corpus", corpus.toString(), "--enable-thinking", "--max-tokens-per-sample", "48"};
        Stages.run(concat(new String[]{"route", "--model", model.toString(), "--out", tmp.resolve("route").toString(),
                "--no-rtn-sensitivity"}, corpusFlags));
        RefineStage.Result refine = (RefineStage.Result) Stages.run(concat(new String[]{"refine", "--model", model.toString(),
                "--pool", pool.toString(), "--out", tmp.resolve("refine").toString(), "--max-rounds", "0"}, corpusFlags));

        assertEquals(5, refine.corpus().samples().size(), "the whitespace duplicate is dropped by both");
        assertEquals(1, refine.corpus().cut(), "the long row is cut, not dropped");
        ParquetTableReader stats = ParquetTableReader.open(tmp.resolve("route").resolve("expert_stats.parquet"));
        long[] routeCounts = stats.readLongColumn("count");
        RoutingCounts refineCounts = refine.startCounts();
        assertArrayEquals(routeCounts, refineCounts.flat(), "refine round 0 counts what route counts");
        long routedTokens = Json.MAPPER.readTree(tmp.resolve("route/manifest.json").toFile()).path("results").path("corpus_tokens").asLong();
        assertEquals(routedTokens, refineCounts.tokens());
        assertTrue(Files.readString(tmp.resolve("refine/compound.jsonl")).contains("Add the two numbers"), "thinking text kept");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
