package org.routecal.synth.select;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.corpus.Sample;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.tokenize.ByteCodec;
import org.routecal.io.Json;
import org.routecal.io.Jsonl;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.accept.AcceptanceRule;
import org.routecal.route.RoutingCounts;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** select over a pool, with the tiny Qwen3-MoE fixture's router deciding. */
class SelectStageTest {
    static MoeModel moe;
    static ModelTargetModel target;
    @TempDir Path dir;

    @BeforeAll static void load() {
        moe = MoeModel.load(Path.of("../tests/fixtures/models/qwen3_moe/v1"));
        target = new ModelTargetModel(moe, new ByteCodec(), 128);
    }

    @AfterAll static void close() throws Exception { moe.close(); }

    static String randomText(Random r, int len, String alphabet) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        return sb.toString();
    }

    @Test void greedySelectionEqualsBruteForceGreedyAndRespectsTheCaps() throws Exception {
        Random r = new Random(3);
        List<Sample> original = new ArrayList<>();
        for (int i = 0; i < 4; i++) original.add(sample("o" + i, "chat", randomText(r, 60, "the quick brown fox ")));
        List<Sample> pool = new ArrayList<>();
        for (int i = 0; i < 30; i++) pool.add(sample("p" + i, "code", randomText(r, 40, i % 2 == 0 ? "{}();=+-*/<>[]0123456789" : "abcdefghijklmnopqrstuvwxyz ")));
        pool.add(sample("dup", "chat", " " + original.get(0).text().toUpperCase() + "\n"));

        RoutingCounts orig = SelectStage.route(original, target, target.moeLayerCount(), target.expertCount(), Progress.NONE);
        assertEquals(2, orig.layers());
        assertEquals(2 * 240, orig.layerTotal(0), "top-2 picks of 240 tokens");
        AcceptanceParams params = new AcceptanceParams(120, 0, 0.6, 0.2, 3.0);
        SelectStage.Result res = SelectStage.run(original, orig, orig, pool, target, params, 0, dir, Progress.NONE);

        List<JsonNode> rows = new ArrayList<>(Jsonl.readLog(dir.resolve("selected.jsonl")));
        assertEquals(pool.size(), rows.size());
        assertEquals("duplicate", rows.get(30).path("reason").asText(), "the one duplicate rule: case and whitespace do not count");
        assertTrue(res.accepted() > 0, res.toString());
        assertTrue(res.deficitAfter() < res.deficitBefore());
        assertTrue(res.driftJs() <= params.maxCorpusDriftJs());
        long gains = rows.stream().filter(n -> n.path("accepted").asBoolean()).mapToLong(n -> n.path("gain").asLong()).sum();
        assertEquals(res.deficitBefore() - res.deficitAfter(), gains);

        // brute-force greedy over the same routed counts picks the same set, in the same order
        AcceptanceRule rule = new AcceptanceRule(params, orig);
        RoutingCounts cur = orig.copy();
        List<RoutingCounts> routed = new ArrayList<>();
        for (int i = 0; i < 30; i++) routed.add(target.route(pool.get(i).text()));
        List<Integer> remaining = new ArrayList<>();
        for (int i = 0; i < 30; i++) remaining.add(i);
        List<String> expectedOrder = new ArrayList<>();
        while (true) {
            int best = -1;
            double bestScore = 0;
            AcceptanceRule.Decision bestD = null;
            for (int i : remaining) {
                AcceptanceRule.Decision d = rule.decide(cur, routed.get(i));
                if (best < 0 || d.score() > bestScore) { best = i; bestScore = d.score(); bestD = d; }
            }
            if (best < 0) break;
            remaining.remove(Integer.valueOf(best));
            if (bestD.accepted()) {
                cur.add(routed.get(best));
                expectedOrder.add(pool.get(best).sampleId());
            }
        }
        List<String> actualOrder = rows.stream().filter(n -> n.path("accepted").asBoolean())
                .sorted((a, b) -> Integer.compare(a.path("order").asInt(), b.path("order").asInt())).map(n -> n.path("id").asText()).toList();
        assertEquals(expectedOrder, actualOrder);
        assertEquals(res.accepted(), Jsonl.readLog(dir.resolve("selected_accepted.jsonl")).size());
        assertTrue(Files.readString(dir.resolve("select_metrics.json")).contains("\"format\" : \"routecal.select_metrics\""));
    }

    /**
     * The select command: an over-long pool text is cut (never rejected as too_long), and manifest.json records the
     * inputs with their hashes, the timings and every numeric parameter (only secrets are redacted).
     */
    @Test void selectCommandCutsLongTextsAndWritesAFullManifest() throws Exception {
        Random r = new Random(9);
        StringBuilder corpus = new StringBuilder(), pool = new StringBuilder();
        for (int i = 0; i < 3; i++) corpus.append(Json.MAPPER.writeValueAsString(java.util.Map.of("text", randomText(r, 30, "the quick brown fox ")))).append('\n');
        for (int i = 0; i < 8; i++) pool.append(Json.MAPPER.writeValueAsString(java.util.Map.of("sample_id", "p" + i, "domain", "code",
                "text", randomText(r, i == 0 ? 300 : 30, "{}();=+-*/<>[]0123456789abcdefgh")))).append('\n');
        Files.writeString(dir.resolve("corpus.jsonl"), corpus);
        Files.writeString(dir.resolve("pool.jsonl"), pool);
        Path out = dir.resolve("sel");
        int rc = org.routecal.cli.Main.run("select", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte",
                "--corpus", dir.resolve("corpus.jsonl").toString(), "--pool", dir.resolve("pool.jsonl").toString(), "--out", out.toString(),
                "--max-tokens-per-sample", "40", "--target", "50", "--min-gain-per-token", "0.01", "--max-candidate-js", "0.9",
                "--max-corpus-drift-js", "0.5", "--max-added-token-ratio", "2");
        assertEquals(0, rc);
        List<JsonNode> rows = Jsonl.read(out.resolve("selected.jsonl"));
        assertEquals(8, rows.size());
        assertTrue(rows.stream().noneMatch(n -> n.path("reason").asText().equals("too_long")));
        assertEquals(40, rows.get(0).path("n_tokens").asInt(), "the 300-byte text is cut to the limit");
        org.routecal.pipeline.Manifest m = org.routecal.pipeline.OutputDir.requireComplete(out, "select", "--out");
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> acceptance = (java.util.Map<String, Object>) m.parameters().get("acceptance");
        assertEquals(0.01, acceptance.get("min_gain_per_token"));
        assertEquals(2.0, acceptance.get("max_added_token_ratio"));
        assertEquals(org.routecal.pipeline.Sha256.of(dir.resolve("corpus.jsonl")), m.inputs("corpus").get(0).sha256());
        assertEquals(org.routecal.pipeline.Sha256.of(dir.resolve("pool.jsonl")), m.inputs("pool").get(0).sha256());
        assertEquals(1, m.inputs("model_config").size());
        assertTrue(m.timings().keySet().containsAll(List.of("route_corpus", "route_pool", "select")), m.timings().toString());
        assertEquals(8, m.results().get("pool"));
        assertTrue(m.outputs().stream().anyMatch(o -> o.path().equals("selected.jsonl")));
    }

    static Sample sample(String id, String domain, String text) {
        return new Sample(id, domain, text, new ByteCodec().encode(text));
    }
}
