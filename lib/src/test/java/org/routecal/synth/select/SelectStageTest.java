package org.routecal.synth.select;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.serve.ByteCodec;
import org.routecal.synth.AppendLog;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.accept.AcceptanceRule;
import org.routecal.synth.accept.RoutingCounts;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

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
        List<CandidatePool.Candidate> original = new ArrayList<>();
        for (int i = 0; i < 4; i++) original.add(new CandidatePool.Candidate("o" + i, "chat", randomText(r, 60, "the quick brown fox ")));
        List<CandidatePool.Candidate> pool = new ArrayList<>();
        for (int i = 0; i < 30; i++) pool.add(new CandidatePool.Candidate("p" + i, "code", randomText(r, 40, i % 2 == 0 ? "{}();=+-*/<>[]0123456789" : "abcdefghijklmnopqrstuvwxyz ")));
        pool.add(new CandidatePool.Candidate("dup", "chat", original.get(0).text()));
        pool.add(new CandidatePool.Candidate("empty", "chat", "  "));
        pool.add(new CandidatePool.Candidate("long", "chat", "x".repeat(500)));

        RoutingCounts orig = SelectStage.route(original, target, target.moeLayerCount(), target.expertCount(), Progress.NONE);
        assertEquals(2, orig.layers());
        assertEquals(2 * 240, orig.layerTotal(0), "top-2 picks of 240 tokens");
        AcceptanceParams params = new AcceptanceParams(120, 0, 0.6, 0.2, 3.0);
        SelectStage.Result res = SelectStage.run(original, orig, orig, pool, target, params, 0, 400, dir, Progress.NONE);

        List<JsonNode> rows = new ArrayList<>(AppendLog.read(dir.resolve("selected.jsonl")));
        assertEquals(pool.size(), rows.size());
        assertEquals("duplicate", rows.get(30).path("reason").asText());
        assertEquals("empty", rows.get(31).path("reason").asText());
        assertEquals("too_long", rows.get(32).path("reason").asText());
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
                expectedOrder.add(pool.get(best).id());
            }
        }
        List<String> actualOrder = rows.stream().filter(n -> n.path("accepted").asBoolean())
                .sorted((a, b) -> Integer.compare(a.path("order").asInt(), b.path("order").asInt())).map(n -> n.path("id").asText()).toList();
        assertEquals(expectedOrder, actualOrder);
        assertEquals(res.accepted(), AppendLog.read(dir.resolve("selected_accepted.jsonl")).size());
        assertTrue(Files.readString(dir.resolve("select_metrics.json")).contains("\"format\" : \"routecal.select_metrics\""));
    }

    @Test void poolFromDirectoryOfTextFiles() throws Exception {
        Path pd = Files.createDirectories(dir.resolve("pool/math"));
        Files.writeString(pd.resolve("a.txt"), "1 + 1 = 2");
        Files.writeString(dir.resolve("pool/b.txt"), "hello");
        List<CandidatePool.Candidate> c = CandidatePool.read(dir.resolve("pool"), target);
        Set<String> domains = new HashSet<>();
        c.forEach(x -> domains.add(x.domain()));
        assertEquals(Set.of("math", "default"), domains);
        // a Parquet pool (the reference's synthetic column name)
        var schema = org.routecal.io.parquet.ParquetSchema.builder("pool").string("domain").string("seed_augmentation").build();
        try (var w = org.routecal.io.parquet.ParquetTableWriter.create(dir.resolve("pool.parquet"), schema, "test.pool", 1, java.util.Map.of())) {
            w.append("stem", "first text");
            w.append("math", "second text");
        }
        List<CandidatePool.Candidate> pq = CandidatePool.read(dir.resolve("pool.parquet"), target);
        assertEquals(List.of("first text", "second text"), pq.stream().map(CandidatePool.Candidate::text).toList());
        assertEquals("math", pq.get(1).domain());
        Path jl = dir.resolve("p.jsonl");
        Files.writeString(jl, "{\"id\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n{\"nope\":1}\n");
        var e = assertThrows(org.routecal.RoutecalException.class, () -> CandidatePool.read(jl, target));
        assertTrue(e.getMessage().contains("row 2"), e.getMessage());
    }
}
