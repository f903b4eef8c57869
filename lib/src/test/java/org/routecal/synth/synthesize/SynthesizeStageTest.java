package org.routecal.synth.synthesize;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.pipeline.Progress;
import org.routecal.io.Jsonl;
import org.routecal.corpus.CorpusOptions;
import org.routecal.synth.HashingTargetModel;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.route.RoutingCounts;
import org.routecal.synth.extract.ExtractParams;
import org.routecal.synth.extract.ExtractStage;
import org.routecal.synth.extract.ExtractTestData;
import org.routecal.synth.llm.FaultyOpenAiServer;
import org.routecal.synth.llm.FaultyOpenAiServer.Fault;
import org.routecal.synth.llm.LlmOptions;
import org.routecal.synth.llm.LlmParams;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

public class SynthesizeStageTest {
    @TempDir Path dir;
    static final String[] VOCAB = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
            + "sigma tau upsilon phi chi psi omega").split(" ");

    /** A "generator" whose every answer is a fresh conversation of random Greek-letter words. */
    public static FaultyOpenAiServer generator() throws Exception {
        AtomicInteger n = new AtomicInteger();
        return new FaultyOpenAiServer().answer(body -> {
            Random r = new Random(n.incrementAndGet());
            StringBuilder u = new StringBuilder(), a = new StringBuilder();
            for (int i = 0; i < 6; i++) u.append(VOCAB[r.nextInt(VOCAB.length)]).append(' ');
            for (int i = 0; i < 10; i++) a.append(VOCAB[r.nextInt(VOCAB.length)]).append(' ');
            return "### System:\nYou are a tester.\n### User:\n" + u + "\n### Assistant:\n" + a;
        });
    }

    /** The original corpus: 30 tokens routed like one fixed text, so every slot is short of the target 100. */
    static RoutingCounts original(HashingTargetModel m) {
        return m.route("alpha alpha beta beta gamma delta alpha beta alpha beta gamma gamma alpha beta delta alpha beta "
                + "alpha beta gamma delta alpha beta alpha gamma alpha beta alpha beta gamma");
    }

    static SynthesizeParams params(String baseUrl, Path out, int maxRequests) {
        return new SynthesizeParams(out, out.resolve("guidelines"), 1, 4, 30, CorpusOptions.of(out.resolve("corpus.jsonl")), 2, 200, 7, null,
                LlmOptions.of(baseUrl, "gen").withRetries(2, Duration.ofMillis(1)).withConcurrency(3).withBudget(maxRequests, 0),
                SynthesizeParams.referenceSampling(), new AcceptanceParams(100, 0, 1.0, 1.0, 0));
    }

    private void guidelines() {
        ExtractStage.run(new ExtractParams(List.of(ExtractTestData.writeBracketed(dir, "balance")), dir, Set.of(), 4, 300, 2, 2, 5, 1,
                null, null, LlmParams.DEFAULT), Progress.NONE);
    }

    private static void assertLogSound(List<SyntheticRow> rows, int target) {
        Set<String> keys = new HashSet<>();
        for (SyntheticRow r : rows) assertTrue(keys.add(r.key()), "duplicate key " + r.key());
        Map<String, Long> acc = rows.stream().filter(SyntheticRow::accepted)
                .collect(Collectors.groupingBy(r -> r.mode() + "/" + r.domain(), Collectors.counting()));
        assertEquals(Map.of("balance/code", (long) target, "balance/math", (long) target), acc);
        for (SyntheticRow r : rows) {
            if (r.accepted()) {
                assertTrue(r.gain() > 0 && r.routingScore() > 0, r.toString());
                assertTrue(r.text().startsWith("system: "), "rendered in the target's template (the byte codec's transcript)");
                assertEquals(2, r.fewshotIds().size());
            }
        }
    }

    @Test void acceptsUntilTargetRejectsWithReasonsAndLowersTheDeficit() throws Exception {
        guidelines();
        HashingTargetModel m = new HashingTargetModel(2, 8);
        try (FaultyOpenAiServer s = generator().script(Fault.EMPTY, Fault.HTTP_500, Fault.OK)) {
            SynthesizeStage.Result r = SynthesizeStage.run(params(s.baseUrl(), dir, 0), m, original(m), original(m), Progress.NONE);
            List<SyntheticRow> rows = SyntheticRow.readLog(dir.resolve("synthetic.jsonl"));
            assertLogSound(rows, 4);
            assertEquals(1, r.reasons().getOrDefault("empty", 0));
            assertEquals(rows.size(), r.rows());
            assertTrue(r.deficitAfter() < r.deficitBefore());
            // the deficit drop equals the sum of accepted gains (greedy bookkeeping is exact)
            assertEquals(r.deficitBefore() - r.deficitAfter(), rows.stream().filter(SyntheticRow::accepted).mapToLong(SyntheticRow::gain).sum());
            // exported corpus = accepted rows; the Parquet table = the log
            assertEquals(8, Jsonl.readLog(dir.resolve(SyntheticExport.ACCEPTED)).size());
            var reader = org.routecal.io.parquet.ParquetTableReader.open(dir.resolve(SyntheticExport.PARQUET))
                    .requireFormat(SyntheticExport.FORMAT, 1, 1);
            var table = reader.readAll();
            assertEquals(rows.size(), table.size());
            for (int i = 0; i < rows.size(); i++) {
                assertEquals(rows.get(i).key(), table.get(i).getString("key"));
                assertEquals(rows.get(i).accepted(), table.get(i).getBoolean("accepted"));
                assertEquals(rows.get(i).nTokens(), table.get(i).getLong("n_tokens"));
                assertEquals(rows.get(i).domain(), table.get(i).getString("domain"));
            }
            // the prompt carried the guideline and examples
            String prompt = s.bodies().get(0).path("messages").get(0).path("content").asText();
            assertTrue(prompt.contains("Use more of these words") && prompt.contains("Reference example 2"), prompt);
        }
    }

    /** The synthesize CLI with the tiny model's router deciding and the fault-injecting server generating. */
    @Test void synthesizeCommandWithTheTinyModelRouter() throws Exception {
        guidelines();
        Files.writeString(dir.resolve("corpus.jsonl"), "{\"text\":\"alpha beta gamma\",\"domain\":\"chat\"}\n");
        try (FaultyOpenAiServer s = generator().script(Fault.HTTP_503)) {
            int rc = org.routecal.cli.Main.run("synthesize", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte",
                    "--corpus", dir.resolve("corpus.jsonl").toString(), "--guidelines", dir.resolve("guidelines").toString(),
                    "--out", dir.resolve("run").toString(), "--per-combo", "2", "--max-candidates", "6", "--llm-base-url", s.baseUrl(),
                    "--llm-model", "gen", "--llm-retries", "2", "--max-candidate-js", "1", "--max-corpus-drift-js", "1",
                    "--max-added-token-ratio", "0");
            assertEquals(0, rc);
            List<SyntheticRow> rows = SyntheticRow.readLog(dir.resolve("run/synthetic.jsonl"));
            assertEquals(4, rows.stream().filter(SyntheticRow::accepted).count(), "2 per combo: the 64-token target is far away");
            assertTrue(rows.stream().allMatch(r -> r.nTokens() > 0 && r.text().startsWith("system: ")), "byte codec's chat rendering");
            var m = org.routecal.pipeline.Manifest.read(dir.resolve("run/manifest.json"));
            assertEquals("synthesize", m.command());
            assertFalse(Files.readString(dir.resolve("run/manifest.json")).contains("sk-"), "no key material");
        }
    }

    /** Two synthesize runs on one --out would interleave the log: the second is refused while the first holds it. */
    @Test void aSecondSynthesizeOnOneOutIsRefused() throws Exception {
        guidelines();
        Files.writeString(dir.resolve("corpus.jsonl"), "{\"text\":\"alpha beta gamma\",\"domain\":\"chat\"}\n");
        Path out = dir.resolve("run");
        try (FaultyOpenAiServer s = generator().okDelayMillis(150)) {
            String[] args = {"synthesize", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte",
                    "--corpus", dir.resolve("corpus.jsonl").toString(), "--guidelines", dir.resolve("guidelines").toString(),
                    "--out", out.toString(), "--per-combo", "2", "--max-candidates", "6", "--llm-base-url", s.baseUrl(),
                    "--llm-model", "gen", "--llm-concurrency", "1", "--max-candidate-js", "1", "--max-corpus-drift-js", "1",
                    "--max-added-token-ratio", "0"};
            java.util.concurrent.CompletableFuture<Integer> first = java.util.concurrent.CompletableFuture.supplyAsync(() -> org.routecal.cli.Main.run(args));
            long deadline = System.currentTimeMillis() + 30_000;
            while (System.currentTimeMillis() < deadline && s.bodies().isEmpty()) Thread.sleep(10);
            assertFalse(s.bodies().isEmpty(), "the first run is generating");
            assertEquals(2, org.routecal.cli.Main.run(args), "refused while the first one writes");
            assertEquals(0, first.get(60, java.util.concurrent.TimeUnit.SECONDS));
            List<SyntheticRow> rows = SyntheticRow.readLog(out.resolve("synthetic.jsonl"));
            assertEquals(rows.size(), rows.stream().map(SyntheticRow::key).distinct().count(), "no key decided twice");
            assertEquals(4, rows.stream().filter(SyntheticRow::accepted).count());
            assertEquals(0, org.routecal.cli.Main.run(args), "afterwards the run is resumed (nothing left to do)");
        }
    }

    @Test void budgetStopThenResumeLosesAndDuplicatesNothing() throws Exception {
        guidelines();
        HashingTargetModel m = new HashingTargetModel(2, 8);
        try (FaultyOpenAiServer s = generator()) {
            SynthesizeStage.run(params(s.baseUrl(), dir, 3), m, original(m), original(m), Progress.NONE);
            List<SyntheticRow> first = SyntheticRow.readLog(dir.resolve("synthetic.jsonl"));
            assertEquals(3, first.size(), "each of the 3 budgeted requests became one row");
            SynthesizeStage.run(params(s.baseUrl(), dir, 0), m, original(m), original(m), Progress.NONE);
            List<SyntheticRow> second = SyntheticRow.readLog(dir.resolve("synthetic.jsonl"));
            assertEquals(first, second.subList(0, first.size()), "rows of the first run kept as they were");
            assertLogSound(second, 4);
            // no generation call was made twice for one key
            List<ObjectNode> calls = Jsonl.readLog(dir.resolve("llm_calls.jsonl"));
            List<String> okKeys = calls.stream().filter(c -> c.path("outcome").asText().equals("ok")).map(c -> c.path("purpose").asText()).toList();
            assertEquals(okKeys.size(), new HashSet<>(okKeys).size());
            // a third run has nothing left to do
            int requests = s.bodies().size();
            SynthesizeStage.run(params(s.baseUrl(), dir, 0), m, original(m), original(m), Progress.NONE);
            assertEquals(requests, s.bodies().size());
        }
    }

    @Test void killedChildProcessResumesWithNothingLostOrDuplicated() throws Exception {
        guidelines();
        HashingTargetModel m = new HashingTargetModel(2, 8);
        try (FaultyOpenAiServer s = generator().okDelayMillis(120)) {
            Path log = dir.resolve("synthetic.jsonl");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    SynthesizeChild.class.getName(), s.baseUrl(), dir.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("child.out").toFile()).start();
            long deadline = System.currentTimeMillis() + 30_000;
            while (System.currentTimeMillis() < deadline && (!Files.exists(log) || Jsonl.readLog(log).size() < 3)) Thread.sleep(20);
            child.destroyForcibly().waitFor();
            List<SyntheticRow> before = SyntheticRow.readLog(log);
            assertTrue(before.size() >= 3 && before.size() < 8, "killed mid-run: " + before.size() + " rows; " + Files.readString(dir.resolve("child.out")));
            SynthesizeStage.run(params(s.baseUrl(), dir, 0), m, original(m), original(m), Progress.NONE);
            List<SyntheticRow> after = SyntheticRow.readLog(log);
            assertEquals(before, after.subList(0, before.size()));
            assertLogSound(after, 4);
        }
    }
}
