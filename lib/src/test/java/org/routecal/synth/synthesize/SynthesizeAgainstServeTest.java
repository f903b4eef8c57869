package org.routecal.synth.synthesize;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.pipeline.Progress;
import org.routecal.io.Jsonl;
import org.routecal.corpus.CorpusOptions;
import org.routecal.synth.HashingTargetModel;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.extract.ExtractParams;
import org.routecal.synth.extract.ExtractStage;
import org.routecal.synth.extract.ExtractTestData;
import org.routecal.synth.llm.LlmOptions;
import org.routecal.synth.llm.LlmParams;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * synthesize against our own {@code routecal serve} (tiny model, child JVM) over real HTTP; the server is killed
 * mid-run, restarted, and the run resumed. The tiny model writes nonsense, so rows end as bad_format: what is under test
 * is protocol, persistence and resume.
 */
class SynthesizeAgainstServeTest {
    @TempDir Path dir;

    private static final Pattern URL = Pattern.compile("(http://127\\.0\\.0\\.1:\\d+/v1)");

    /** Starts {@code routecal serve} on a free port; returns the process and its base URL. */
    static Object[] startServe() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "org.routecal.cli.Main", "serve", "--model", "../tests/fixtures/models/qwen3_moe/v1", "--tokenizer", "byte",
                "--port", "0", "--max-concurrent", "2", "--served-model-name", "tiny").redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
        CompletableFuture<String> url = CompletableFuture.supplyAsync(() -> {
            try {
                for (String line; (line = r.readLine()) != null; ) {
                    Matcher m = URL.matcher(line);
                    if (m.find()) return m.group(1);
                }
            } catch (Exception ignored) {
                // the process died: no URL
            }
            return null;
        });
        String u = url.get(60, TimeUnit.SECONDS);
        assertNotNull(u, "serve did not report its URL");
        CompletableFuture.runAsync(() -> { try { while (r.readLine() != null) { } } catch (Exception ignored) { } });
        return new Object[]{p, u};
    }

    static SynthesizeParams params(String url, Path out) {
        // the tiny model's context is 256 byte-tokens: a one-line template override keeps prompts inside it
        return new SynthesizeParams(out, out.resolve("guidelines"), 1, 3, 6, CorpusOptions.of(out.resolve("corpus.jsonl")), 1, 100, 3, out.resolve("prompts"),
                LlmOptions.of(url, "tiny").withRetries(1, Duration.ofMillis(20)).withTimeout(Duration.ofSeconds(5)).withConcurrency(2),
                new LlmParams(0.9, 0.95, 6, null, Map.of()), new AcceptanceParams(100, 0, 1, 1, 0));
    }

    @Test void serverKilledMidRunThenResumed() throws Exception {
        ExtractStage.run(new ExtractParams(List.of(ExtractTestData.writeBracketed(dir, "balance")), dir, Set.of(), 2, 200, 1, 2, 5, 1,
                null, null, LlmParams.DEFAULT), Progress.NONE);
        Files.createDirectories(dir.resolve("prompts"));
        Files.writeString(dir.resolve("prompts/synthesize.md"), "Write a {{domain}} dialogue:\n");
        HashingTargetModel m = new HashingTargetModel(2, 8);
        Path log = dir.resolve("synthetic.jsonl");

        Object[] a = startServe();
        Process serverA = (Process) a[0];
        CompletableFuture<Throwable> first = CompletableFuture.supplyAsync(() -> {
            try {
                SynthesizeStage.run(params((String) a[1], dir), m, SynthesizeStageTest.original(m), SynthesizeStageTest.original(m), Progress.NONE);
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline && (!Files.exists(log) || Jsonl.readLog(log).isEmpty()) && !first.isDone()) Thread.sleep(20);
        serverA.destroyForcibly().waitFor();
        Throwable failure = first.get(120, TimeUnit.SECONDS);
        List<SyntheticRow> before = SyntheticRow.readLog(log);
        assertTrue(before.size() >= 1, "rows before the kill: " + before.size() + "; " + failure);
        assertTrue(before.size() < 12, "the kill landed mid-run");
        assertInstanceOf(RoutecalException.class, failure);
        assertTrue(failure.getMessage().contains("rerun"), failure.getMessage());
        // the failed attempts are recorded, not lost
        assertTrue(Jsonl.readLog(dir.resolve("llm_calls.jsonl")).stream().anyMatch(n -> n.path("outcome").asText().equals("connection_error")));

        Object[] b = startServe();
        try {
            SynthesizeStage.run(params((String) b[1], dir), m, SynthesizeStageTest.original(m), SynthesizeStageTest.original(m), Progress.NONE);
        } finally {
            ((Process) b[0]).destroy(); // SIGTERM: the shutdown hook stops the server cleanly
            assertTrue(((Process) b[0]).waitFor(20, TimeUnit.SECONDS), "serve exits on SIGTERM");
        }
        List<SyntheticRow> after = SyntheticRow.readLog(log);
        assertEquals(before, after.subList(0, before.size()), "rows of the first run kept");
        Set<String> keys = new HashSet<>();
        for (SyntheticRow r : after) assertTrue(keys.add(r.key()), "duplicate " + r.key());
        // every index of both combos was decided exactly once (nothing accepted from nonsense, so all 6 were tried)
        for (String combo : List.of("balance/code", "balance/math")) {
            for (int i = 0; i < 6; i++) assertTrue(keys.contains(combo + "/1/" + i), combo + " index " + i);
        }
        assertEquals(12, after.size());
        assertTrue(after.stream().allMatch(r -> r.llmCallId() != null));
    }
}
