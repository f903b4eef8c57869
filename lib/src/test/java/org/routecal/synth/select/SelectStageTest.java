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
import org.routecal.synth.accept.SelectionState;
import org.routecal.synth.accept.UsageObjective;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

    static final String[] ALPHABETS = {"{}();=+-*/<>[]0123456789", "abcdefghijklmnopqrstuvwxyz ", "ΑΒΓΔΕΖΗΘαβγδεζηθ ", "0123456789 .,"};

    static List<Sample> pool(Random r, int n) {
        List<Sample> pool = new ArrayList<>();
        String[] domains = {"code", "prose", "greek", "math"};
        for (int i = 0; i < n; i++) pool.add(sample("p" + i, domains[i % 4], randomText(r, 30 + r.nextInt(30), ALPHABETS[i % 4])));
        return pool;
    }

    static List<Sample> original(Random r) {
        // three prose texts and one code text: the original mix is ¾ prose, ¼ code by tokens (60 characters each)
        List<Sample> o = new ArrayList<>();
        for (int i = 0; i < 3; i++) o.add(sample("o" + i, "prose", randomText(r, 60, ALPHABETS[1])));
        o.add(sample("o3", "code", randomText(r, 60, ALPHABETS[0])));
        return o;
    }

    static SelectStage.Result select(List<Sample> original, List<Sample> pool, Objective objective,
                                     double maxDomainDrift, long budget, long seed, SelfSampler.Params self, Path out) {
        SelectStage.Usage u = SelectStage.measure(original, target, target.moeLayerCount(), target.expertCount(), Progress.NONE);
        SelectStage.Options o = new SelectStage.Options(new SelectionOptions(objective, null, budget, maxDomainDrift, self), new AcceptanceParams(64, 0, 1, 1, 0),
                0, seed);
        return SelectStage.run(original, u.counts(), SelectionState.original(u.counts(), u.domainTokens()), u, pool, target, o, out, Progress.NONE);
    }

    @Test void usageObjectiveIsTheGreedyOfItsGainPerTokenWithinTheBudget() throws Exception {
        Random r = new Random(4);
        List<Sample> original = original(r), pool = pool(r, 24);
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
            expected.add(pool.get(best).sampleId());
        }
        List<String> actual = Jsonl.readLog(dir.resolve("u/selected_accepted.jsonl")).stream()
                .map(n -> n.path("sample_id").asText().substring("selected/".length())).toList();
        assertEquals(expected, actual);
        assertEquals(obj.expectedError(cur), res.objectiveAfter(), 1e-12);
    }

    @Test void domainDriftCapHoldsAndRefusedTextsWaitForTheirTurn() throws Exception {
        Random r = new Random(5);
        List<Sample> original = original(r), pool = pool(r, 40);
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
        List<Sample> original = original(r), pool = pool(r, 60);
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
        List<Sample> original = original(r);
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
        for (Sample c : original(r)) corpus.append(Json.MAPPER.createObjectNode().put("sample_id", c.sampleId()).put("domain", c.domain()).put("text", c.text())).append('\n');
        for (Sample c : pool(r, 20)) pool.append(Json.MAPPER.createObjectNode().put("sample_id", c.sampleId()).put("domain", c.domain()).put("text", c.text())).append('\n');
        Files.writeString(dir.resolve("corpus.jsonl"), corpus);
        Files.writeString(dir.resolve("pool.jsonl"), pool);
        for (String objective : List.of("usage", "stratified", "deficit", "self-sample")) {
            List<String> args = new ArrayList<>(List.of("select", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte",
                    "--corpus", dir.resolve("corpus.jsonl").toString(), "--out", dir.resolve("cli-" + objective).toString(),
                    "--objective", objective, "--budget-tokens", "150", "--self-sample-length", "20"));
            if (!objective.equals("self-sample")) args.addAll(List.of("--pool", dir.resolve("pool.jsonl").toString()));
            assertEquals(0, org.routecal.cli.Main.run(args.toArray(String[]::new)), objective);
            JsonNode m = Json.MAPPER.readTree(dir.resolve("cli-" + objective + "/select_metrics.json").toFile());
            assertEquals(objective, m.path("objective").asText());
            assertTrue(m.path("added_tokens").asLong() > 0 && m.path("added_tokens").asLong() <= 150, objective + ": " + m);
        }
        assertEquals(2, org.routecal.cli.Main.run("select", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte",
                "--corpus", dir.resolve("corpus.jsonl").toString(), "--out", dir.resolve("cli-x").toString()), "a pool is needed unless self-sampling");
        assertEquals(0, org.routecal.cli.Main.run("select", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte",
                "--corpus", dir.resolve("corpus.jsonl").toString(), "--pool", dir.resolve("pool.jsonl").toString(), "--out", dir.resolve("cli-d").toString()));
        assertEquals(Objective.DEFAULT.id(), Json.MAPPER.readTree(dir.resolve("cli-d/select_metrics.json").toFile()).path("objective").asText(),
                "the CLI default is Objective.DEFAULT");
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
