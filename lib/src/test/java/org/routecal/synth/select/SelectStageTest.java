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
import org.routecal.synth.accept.SelectionState;
import org.routecal.synth.accept.UsageObjective;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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

    static final String[] ALPHABETS = {"{}();=+-*/<>[]0123456789", "abcdefghijklmnopqrstuvwxyz ", "ΑΒΓΔΕΖΗΘαβγδεζηθ ", "0123456789 .,"};

    static List<CandidatePool.Candidate> pool(Random r, int n) {
        List<CandidatePool.Candidate> pool = new ArrayList<>();
        String[] domains = {"code", "prose", "greek", "math"};
        for (int i = 0; i < n; i++) pool.add(new CandidatePool.Candidate("p" + i, domains[i % 4], randomText(r, 30 + r.nextInt(30), ALPHABETS[i % 4])));
        return pool;
    }

    static List<CandidatePool.Candidate> original(Random r) {
        // three prose texts and one code text: the original mix is ¾ prose, ¼ code by tokens (60 characters each)
        List<CandidatePool.Candidate> o = new ArrayList<>();
        for (int i = 0; i < 3; i++) o.add(new CandidatePool.Candidate("o" + i, "prose", randomText(r, 60, ALPHABETS[1])));
        o.add(new CandidatePool.Candidate("o3", "code", randomText(r, 60, ALPHABETS[0])));
        return o;
    }

    static SelectStage.Result select(List<CandidatePool.Candidate> original, List<CandidatePool.Candidate> pool, Objective objective,
                                     double maxDomainDrift, long budget, long seed, SelfSampler.Params self, Path out) {
        SelectStage.Usage u = SelectStage.measure(original, target, target.moeLayerCount(), target.expertCount(), Progress.NONE);
        SelectStage.Options o = new SelectStage.Options(objective, new AcceptanceParams(64, 0, 1, 1, 0), maxDomainDrift, 0, budget, 400, seed, self);
        return SelectStage.run(original, u.counts(), SelectionState.original(u.counts(), u.domainTokens()), u, pool, target, o, out, Progress.NONE);
    }

    @Test void usageObjectiveIsTheGreedyOfItsGainPerTokenWithinTheBudget() throws Exception {
        Random r = new Random(4);
        List<CandidatePool.Candidate> original = original(r), pool = pool(r, 24);
        SelectStage.Result res = select(original, pool, Objective.USAGE, 1.0, 300, 0, SelfSampler.Params.DEFAULTS, dir.resolve("u"));
        assertTrue(res.addedTokens() <= 300 && res.addedTokens() > 200, res.toString());
        assertTrue(res.objectiveAfter() < res.objectiveBefore());
        // brute force: take the best gain per token that fits the budget, until none fits
        SelectStage.Usage u = SelectStage.measure(original, target, target.moeLayerCount(), target.expertCount(), Progress.NONE);
        UsageObjective obj = new UsageObjective(u.counts(), u.domainTokens(), 64, 1.0, 0);
        RoutingCounts cur = u.counts().copy();
        List<Integer> remaining = new ArrayList<>();
        for (int i = 0; i < pool.size(); i++) remaining.add(i);
        List<String> expected = new ArrayList<>();
        long added = 0;
        while (true) {
            int best = -1;
            double bestScore = -1;
            for (int i : remaining) {
                RoutingCounts c = target.route(pool.get(i).text());
                if (added + c.tokens() > 300) continue;
                double sc = obj.gain(cur, c) / c.tokens();
                if (sc > bestScore) { best = i; bestScore = sc; }
            }
            if (best < 0) break;
            remaining.remove(Integer.valueOf(best));
            RoutingCounts c = target.route(pool.get(best).text());
            cur.add(c);
            added += c.tokens();
            expected.add(pool.get(best).id());
        }
        List<String> actual = AppendLog.read(dir.resolve("u/selected_accepted.jsonl")).stream()
                .map(n -> n.path("sample_id").asText().substring("selected/".length())).toList();
        assertEquals(expected, actual);
        assertEquals(obj.expectedError(cur), res.objectiveAfter(), 1e-12);
    }

    @Test void domainDriftCapHoldsAndRefusedTextsWaitForTheirTurn() throws Exception {
        Random r = new Random(5);
        List<CandidatePool.Candidate> original = original(r), pool = pool(r, 40);
        SelectStage.Result capped = select(original, pool, Objective.USAGE, 0.15, 400, 0, SelfSampler.Params.DEFAULTS, dir.resolve("c"));
        UsageObjective probe = new UsageObjective(capped.counts(), Map.of("prose", 180L, "code", 60L), 64, 0.15, 0);
        assertTrue(probe.drift(capped.state().domainTokens()) <= 0.15 + 1e-12, capped.state().domainTokens().toString());
        SelectStage.Result free = select(original, pool, Objective.USAGE, 1.0, 400, 0, SelfSampler.Params.DEFAULTS, dir.resolve("f"));
        assertTrue(free.objectiveAfter() <= capped.objectiveAfter() + 1e-12, "the cap can only cost objective");
        assertTrue(probe.drift(free.state().domainTokens()) > 0.15, "without the cap the mix drifts: " + free.state().domainTokens());
        assertTrue(capped.reasons().containsKey("domain_drift") || capped.reasons().containsKey("budget"), capped.reasons().toString());
    }

    @Test void stratifiedFollowsTheOriginalDomainMix() throws Exception {
        Random r = new Random(6);
        List<CandidatePool.Candidate> original = original(r), pool = pool(r, 60);
        SelectStage.Result a = select(original, pool, Objective.STRATIFIED, 0.1, 400, 1, SelfSampler.Params.DEFAULTS, dir.resolve("s1"));
        SelectStage.Result b = select(original, pool, Objective.STRATIFIED, 0.1, 400, 2, SelfSampler.Params.DEFAULTS, dir.resolve("s2"));
        for (SelectStage.Result res : List.of(a, b)) {
            assertTrue(res.addedTokens() <= 400 && res.addedTokens() > 300, res.toString());
            Map<String, Long> d = res.state().domainTokens();
            long prose = d.get("prose") - 180, code = d.get("code") - 60;
            assertEquals(prose + code, res.addedTokens(), "only the original's domains are drawn");
            assertEquals(0.75, prose / (double) res.addedTokens(), 0.15, d.toString());
        }
        assertNotEquals(Files.readString(dir.resolve("s1/selected_accepted.jsonl")), Files.readString(dir.resolve("s2/selected_accepted.jsonl")),
                "the seed changes the draw");
    }

    @Test void selfSamplingSteersTowardUnderUsedExperts() throws Exception {
        Random r = new Random(7);
        List<CandidatePool.Candidate> original = original(r);
        SelfSampler.Params steered = new SelfSampler.Params(4, 40, 4, 1.0, 8.0), plain = new SelfSampler.Params(4, 40, 4, 1.0, 0.0);
        SelectStage.Result s1 = select(original, List.of(), Objective.SELF_SAMPLE, 0.1, 200, 3, steered, dir.resolve("g1"));
        SelectStage.Result s2 = select(original, List.of(), Objective.SELF_SAMPLE, 0.1, 200, 3, steered, dir.resolve("g2"));
        SelectStage.Result p = select(original, List.of(), Objective.SELF_SAMPLE, 0.1, 200, 3, plain, dir.resolve("g3"));
        assertEquals(Files.readString(dir.resolve("g1/selected_accepted.jsonl")), Files.readString(dir.resolve("g2/selected_accepted.jsonl")), "seeded");
        // byte-level decoding of random bytes inflates the re-encoded count (replacement characters): the budget still holds
        assertTrue(s1.accepted() >= 2 && s1.addedTokens() <= 200 && s1.addedTokens() > 100, s1.toString());
        // steering spreads the corpus's picks: higher mean layer entropy than sampling among the same candidates unsteered
        assertTrue(meanEntropy(s1.counts()) > meanEntropy(p.counts()), meanEntropy(s1.counts()) + " vs " + meanEntropy(p.counts()));
    }

    static double meanEntropy(RoutingCounts c) {
        double s = 0;
        for (int l = 0; l < c.layers(); l++) s += c.normalizedEntropy(l);
        return s / c.layers();
    }

    @Test void selectCliTakesAnObjectiveAndABudget() throws Exception {
        Random r = new Random(8);
        StringBuilder corpus = new StringBuilder(), pool = new StringBuilder();
        for (CandidatePool.Candidate c : original(r)) corpus.append(AppendLog.JSON.createObjectNode().put("sample_id", c.id()).put("domain", c.domain()).put("text", c.text())).append('\n');
        for (CandidatePool.Candidate c : pool(r, 20)) pool.append(AppendLog.JSON.createObjectNode().put("sample_id", c.id()).put("domain", c.domain()).put("text", c.text())).append('\n');
        Files.writeString(dir.resolve("corpus.jsonl"), corpus);
        Files.writeString(dir.resolve("pool.jsonl"), pool);
        for (String objective : List.of("usage", "stratified", "deficit", "self-sample")) {
            List<String> args = new ArrayList<>(List.of("select", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte",
                    "--corpus", dir.resolve("corpus.jsonl").toString(), "--out", dir.resolve("cli-" + objective).toString(),
                    "--objective", objective, "--budget-tokens", "150", "--self-sample-length", "20"));
            if (!objective.equals("self-sample")) args.addAll(List.of("--pool", dir.resolve("pool.jsonl").toString()));
            assertEquals(0, org.routecal.cli.Main.run(args.toArray(String[]::new)), objective);
            JsonNode m = AppendLog.JSON.readTree(dir.resolve("cli-" + objective + "/select_metrics.json").toFile());
            assertEquals(objective, m.path("objective").asText());
            assertTrue(m.path("added_tokens").asLong() > 0 && m.path("added_tokens").asLong() <= 150, objective + ": " + m);
        }
        assertEquals(2, org.routecal.cli.Main.run("select", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte",
                "--corpus", dir.resolve("corpus.jsonl").toString(), "--out", dir.resolve("cli-x").toString()), "a pool is needed unless self-sampling");
        assertEquals(0, org.routecal.cli.Main.run("select", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte",
                "--corpus", dir.resolve("corpus.jsonl").toString(), "--pool", dir.resolve("pool.jsonl").toString(), "--out", dir.resolve("cli-d").toString()));
        assertEquals(Objective.DEFAULT.id(), AppendLog.JSON.readTree(dir.resolve("cli-d/select_metrics.json").toFile()).path("objective").asText(),
                "the CLI default is Objective.DEFAULT");
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
