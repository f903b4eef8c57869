package org.routecal.synth.refine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.cli.Main;
import org.routecal.io.Json;
import org.routecal.io.Jsonl;
import org.routecal.route.RoutingCounts;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class RefineTest {
    @TempDir Path dir;

    @Test void stopRuleOrder() {
        RoutingCounts full = RoutingCounts.of(new long[][]{{10, 10}}, 10);
        RoutingCounts skewed = RoutingCounts.of(new long[][]{{19, 1}}, 10);
        assertEquals("target_reached", new StopRule(10, 0, 2, 5).check(full, List.of(5L), 0));
        assertNull(new StopRule(10, 0, 2, 5).check(skewed, List.of(9L), 0));
        assertEquals("entropy_reached", new StopRule(10, 0.2, 2, 5).check(skewed, List.of(9L), 0)); // H(0.95, 0.05)/ln 2 = 0.286
        assertEquals("no_progress", new StopRule(10, 0, 2, 5).check(skewed, List.of(9L, 9L, 9L), 2));
        assertNull(new StopRule(10, 0, 2, 5).check(skewed, List.of(9L, 9L, 8L), 2));
        assertEquals("max_rounds", new StopRule(10, 0, 2, 2).check(skewed, List.of(9L, 8L, 7L), 2));
    }

    static void writeJsonl(Path f, List<String> texts, String prefix) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            ObjectNode n = Json.MAPPER.createObjectNode().put("sample_id", prefix + i).put("domain", i % 2 == 0 ? "chat" : "code").put("text", texts.get(i));
            sb.append(n).append('\n');
        }
        Files.writeString(f, sb.toString());
    }

    /** The refine CLI over the tiny model: rounds, metrics, compound corpus, manifests, chart. */
    @Test void refineWithPoolThroughTheCli() throws Exception {
        Random r = new Random(11);
        List<String> corpus = new java.util.ArrayList<>(), pool = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) corpus.add(randomText(r, 50, "hello world, how are you? "));
        for (int i = 0; i < 40; i++) pool.add(randomText(r, 40, i % 3 == 0 ? "0123456789+-*/=()" : "abcdefghijklmnopqrstuvwxyz .,"));
        writeJsonl(dir.resolve("corpus.jsonl"), corpus, "c");
        writeJsonl(dir.resolve("pool.jsonl"), pool, "p");
        Path out = dir.resolve("out");
        int rc = Main.run("refine", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte", "--corpus",
                dir.resolve("corpus.jsonl").toString(), "--pool", dir.resolve("pool.jsonl").toString(), "--out", out.toString(),
                "--target", "100", "--per-round", "3", "--max-rounds", "3", "--max-candidate-js", "0.8", "--max-corpus-drift-js", "0.3",
                "--max-added-token-ratio", "0", "--objective", "deficit");
        assertEquals(0, rc);
        List<ObjectNode> metrics = Jsonl.readLog(out.resolve("refine_metrics.jsonl"));
        // round 0, up to 3 rounds, and the stop row
        JsonNode stop = metrics.get(metrics.size() - 1);
        assertTrue(List.of("max_rounds", "target_reached", "no_progress", "pool_exhausted", "no_gain").contains(stop.path("stop_reason").asText()), stop.toString());
        int rounds = metrics.size() - 2;
        assertTrue(rounds >= 1 && rounds <= 3);
        long prev = metrics.get(0).path("deficit").asLong();
        int added = 0;
        for (int i = 1; i <= rounds; i++) {
            JsonNode m = metrics.get(i);
            assertTrue(m.path("added").asInt() <= 3);
            assertTrue(m.path("deficit").asLong() <= prev, "the deficit never grows");
            assertTrue(m.path("js_drift").asDouble() <= 0.3 + 1e-12);
            prev = m.path("deficit").asLong();
            added += m.path("added").asInt();
            assertTrue(Files.exists(out.resolve("round_" + i + "/manifest.json")));
        }
        assertTrue(added > 0);
        List<ObjectNode> compound = Jsonl.readLog(out.resolve("compound.jsonl"));
        assertEquals(4 + added, compound.size(), "the original corpus is kept whole and the accepted texts added");
        assertEquals(4, compound.stream().filter(n -> n.path("source").asText().equals("original")).count());
        assertTrue(Files.readString(out.resolve("refine_report.html")).contains("Total deficit"));

        // a second refine into the same --out would mix old and new rounds: refused unless --overwrite, which replaces it
        String[] again = {"refine", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte", "--corpus",
                dir.resolve("corpus.jsonl").toString(), "--pool", dir.resolve("pool.jsonl").toString(), "--out", out.toString(),
                "--target", "100", "--per-round", "3", "--max-rounds", "1"};
        Files.writeString(out.resolve("round_1/from-the-first-run.txt"), "old");
        assertEquals(2, Main.run(again));
        assertEquals(rounds + 2, Jsonl.readLog(out.resolve("refine_metrics.jsonl")).size(), "the first run's files are untouched");
        String[] overwrite = java.util.Arrays.copyOf(again, again.length + 1);
        overwrite[again.length] = "--overwrite";
        assertEquals(0, Main.run(overwrite));
        assertFalse(Files.exists(out.resolve("round_1/from-the-first-run.txt")), "the old rounds are gone, not mixed in");
        assertTrue(Jsonl.readLog(out.resolve("refine_metrics.jsonl")).size() <= 3, "one round at most, plus round 0 and the stop row");
        assertEquals("refine", org.routecal.pipeline.OutputDir.requireComplete(out, "refine", "--out").command());
    }

    /** A round that adds nothing ends the loop as no_gain, not max_rounds (issue 17). */
    @Test void aRoundThatAddsNothingStopsAsNoGain() throws Exception {
        Random r = new Random(12);
        List<String> corpus = new java.util.ArrayList<>(), pool = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) corpus.add(randomText(r, 50, "hello world, how are you? "));
        for (int i = 0; i < 20; i++) pool.add(randomText(r, 40, i % 2 == 0 ? "0123456789+-*/=()" : "abcdefghijklmnopqrstuvwxyz .,"));
        writeJsonl(dir.resolve("corpus.jsonl"), corpus, "c");
        writeJsonl(dir.resolve("pool.jsonl"), pool, "p");
        Path out = dir.resolve("nogain");
        // 200 original tokens × 0.3 = 60 added tokens at most: round 1 takes one 40-token text, round 2 none
        for (String objective : List.of("deficit", "usage")) {
            int rc = Main.run("refine", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte", "--corpus",
                    dir.resolve("corpus.jsonl").toString(), "--pool", dir.resolve("pool.jsonl").toString(), "--out", out.resolve(objective).toString(),
                    "--target", "1000", "--per-round", "1", "--max-rounds", "5", "--max-candidate-js", "1", "--max-corpus-drift-js", "1",
                    "--max-domain-drift", "1", "--max-added-token-ratio", "0.3", "--objective", objective);
            assertEquals(0, rc);
            List<ObjectNode> metrics = Jsonl.readLog(out.resolve(objective).resolve("refine_metrics.jsonl"));
            JsonNode stop = metrics.get(metrics.size() - 1);
            assertEquals("no_gain", stop.path("stop_reason").asText(), objective + ": " + metrics);
            assertEquals(2, stop.path("round").asInt(), objective);
            assertEquals(1, stop.path("added_total").asInt(), objective);
            assertTrue(metrics.get(1).path("objective_value").asDouble() < metrics.get(0).path("objective_value").asDouble(), objective);
        }
    }

    /** LLM mode without fixed guidelines: each round re-brackets against the current deficit and re-extracts. */
    @Test void refineWithLlmReBracketsAndReExtractsEachRound() throws Exception {
        Random r = new Random(5);
        List<String> corpus = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) corpus.add(randomText(r, 60, "hello world, how are you? "));
        writeJsonl(dir.resolve("corpus.jsonl"), corpus, "c");
        Path out = dir.resolve("out");
        try (var s = org.routecal.synth.synthesize.SynthesizeStageTest.generator()) {
            int rc = Main.run("refine", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte", "--route-window", "128",
                    "--corpus", dir.resolve("corpus.jsonl").toString(), "--out", out.toString(), "--llm-base-url", s.baseUrl(),
                    "--llm-model", "gen", "--target", "100", "--per-round", "2", "--max-candidates", "4", "--max-rounds", "2",
                    "--max-candidate-js", "1", "--max-corpus-drift-js", "1", "--max-added-token-ratio", "0");
            assertEquals(0, rc);
        }
        for (int round = 1; round <= 2; round++) {
            List<ObjectNode> b = Jsonl.readLog(out.resolve("round_" + round + "/bracketed_balance.jsonl"));
            assertTrue(b.size() >= 4, "the compound corpus is bracketed");
            assertTrue(b.stream().anyMatch(n -> n.path("n_tokens_red").asInt() > 0 && n.path("text").asText().contains("<red>")));
            assertTrue(Files.exists(out.resolve("round_" + round + "/guidelines/balance_chat.json")));
        }
        // round 2 brackets what round 1 added
        assertTrue(Jsonl.readLog(out.resolve("round_2/bracketed_balance.jsonl")).size() > 4);
        assertTrue(Jsonl.readLog(out.resolve("synthetic.jsonl")).stream().anyMatch(n -> n.path("accepted").asBoolean()));
    }

    static String randomText(Random r, int len, String alphabet) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        return sb.toString();
    }
}
