package org.routecal.pipeline;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class OutputDirManifestTest {
    @TempDir Path tmp;

    @Test
    void sha256MatchesKnownDigests() throws IOException {
        // FIPS 180-2 test vectors.
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Sha256.of("abc".getBytes(StandardCharsets.US_ASCII)));
        Path f = tmp.resolve("a");
        Files.write(f, "a".repeat(1_000_000).getBytes(StandardCharsets.US_ASCII));
        assertEquals("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", Sha256.of(f));
    }

    @Test
    void onlyOurOwnOutputOfTheSameCommandIsReplacedAndOnlyWithOverwrite() throws IOException {
        Path out = tmp.resolve("run");
        try (OutputDir d = OutputDir.of("route", out).open()) {
            Files.writeString(d.file("plots/layer0.html"), "x");
            d.writeManifest(Manifest.builder("route").build());
            d.commit();
        }
        RoutecalException e = assertThrows(RoutecalException.class, () -> OutputDir.of("route", out).open());
        assertTrue(e.getMessage().contains("finished route run") && e.getMessage().contains("--overwrite"), e.getMessage());
        e = assertThrows(RoutecalException.class, () -> OutputDir.of("quantize", out).overwrite(true).open());
        assertTrue(e.getMessage().contains("`routecal route`"), e.getMessage());
        assertTrue(Files.exists(out.resolve("plots/layer0.html")), "another command's output is never touched");
        try (OutputDir again = OutputDir.of("route", out).overwrite(true).open()) {
            assertFalse(Files.exists(out.resolve("plots")), "overwrite clears our previous run");
            assertThrows(IllegalArgumentException.class, () -> again.file("../escape.txt"));
        }

        // A directory someone else made, holding a manifest.json of its own (a web extension, a source tree...)
        Path foreign = tmp.resolve("home");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("thesis.tex"), "precious");
        Files.writeString(foreign.resolve("manifest.json"), "{\"name\": \"my extension\"}");
        for (boolean overwrite : new boolean[]{false, true}) {
            e = assertThrows(RoutecalException.class, () -> OutputDir.of("route", foreign).overwrite(overwrite).open());
            assertTrue(e.getMessage().contains("not made by routecal") && e.getMessage().contains("even with --overwrite"), e.getMessage());
        }
        assertEquals("precious", Files.readString(foreign.resolve("thesis.tex")));
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        try (OutputDir d = OutputDir.of("route", empty).open()) {
            assertEquals(empty.toAbsolutePath(), d.path());
        }
    }

    /** A kill -9 leaves our marker, 0-byte files and no manifest: always replaceable with --overwrite, never read as a run. */
    @Test
    void anInterruptedRunOfOursIsReplaceableButNotReadable() throws IOException {
        Path out = tmp.resolve("killed");
        OutputDir d = OutputDir.of("route", out).open();
        Files.createFile(d.file("routing.parquet"));
        Files.createFile(d.file("samples.jsonl"));
        // no manifest, no close: the process died here (its OS lock would be gone; release ours to simulate that)
        d.close();
        RoutecalException e = assertThrows(RoutecalException.class, () -> OutputDir.requireComplete(out, "route", "--run"));
        assertTrue(e.getMessage().contains("no manifest.json") && e.getMessage().contains("interrupted"), e.getMessage());
        e = assertThrows(RoutecalException.class, () -> OutputDir.of("route", out).open());
        assertTrue(e.getMessage().contains("unfinished route run"), e.getMessage());
        try (OutputDir again = OutputDir.of("route", out).overwrite(true).open()) {
            assertFalse(Files.exists(out.resolve("routing.parquet")));
        }
    }

    @Test
    void anOutputThatIsInsideOrContainsAnInputIsRefused() throws IOException {
        Path model = Files.createDirectories(tmp.resolve("models/m"));
        Files.writeString(model.resolve("config.json"), "{}");
        Path corpus = tmp.resolve("data/corpus.jsonl");
        Files.createDirectories(corpus.getParent());
        Files.writeString(corpus, "{}\n");
        record Case(Path out, String why) {}
        for (Case c : List.of(new Case(model, "is the input --model"), new Case(model.resolve("q"), "is inside the input --model"),
                new Case(tmp.resolve("models"), "contains the input --model"), new Case(tmp.resolve("data"), "contains the input --corpus"),
                new Case(tmp.resolve("data/../models/./m"), "is the input --model"))) {
            RoutecalException e = assertThrows(RoutecalException.class, () -> OutputDir.of("quantize", c.out()).staged(true).overwrite(true)
                    .input("--model", model).input("--corpus", corpus).open());
            assertTrue(e.getMessage().contains(c.why()), c + ": " + e.getMessage());
        }
        if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Path alias = Files.createSymbolicLink(tmp.resolve("alias"), model);
            RoutecalException e = assertThrows(RoutecalException.class, () -> OutputDir.of("quantize", alias).overwrite(true).input("--model", model).open());
            assertTrue(e.getMessage().contains("is the input --model"), e.getMessage());
        }
        assertEquals("{}", Files.readString(model.resolve("config.json")));
        assertEquals(1, Files.list(model).count(), "the model directory is untouched");
    }

    /** A second writer on one output is refused with the first one's pid, in this process and from another one. */
    @Test
    void oneWriterPerOutput() throws Exception {
        Path out = tmp.resolve("shared");
        try (OutputDir first = OutputDir.of("synthesize", out).resume(true).open()) {
            RoutecalException e = assertThrows(RoutecalException.class, () -> OutputDir.of("synthesize", out).resume(true).open());
            assertTrue(e.getMessage().contains("being written by another routecal run") && e.getMessage().contains("pid " + ProcessHandle.current().pid()),
                    e.getMessage());
        }
        try (OutputDir resumed = OutputDir.of("synthesize", out).resume(true).open()) {
            assertTrue(resumed.resumed());
        }
        // another process holds the lock; killed with SIGKILL, its lock is gone and the next writer takes over
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), LockHolder.class.getName(), out.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start(); // stderr may carry the JVM's "Picked up JAVA_TOOL_OPTIONS"
        try {
            String ready = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream())).readLine();
            assertEquals("locked", ready);
            RoutecalException e = assertThrows(RoutecalException.class, () -> OutputDir.of("synthesize", out).resume(true).open());
            assertTrue(e.getMessage().contains("pid " + child.pid()), e.getMessage());
        } finally {
            child.destroyForcibly().waitFor();
        }
        try (OutputDir after = OutputDir.of("synthesize", out).resume(true).open()) {
            assertTrue(after.resumed(), "the killed writer's lock is taken over");
        }
        assertFalse(Files.exists(tmp.resolve(".shared.lock")), "a released lock leaves no file");
    }

    /** A staged output appears whole at commit; without commit the old output stays and no temp directory is left. */
    @Test
    void stagedOutputsAppearWholeOrNotAtAll() throws IOException {
        Path out = tmp.resolve("ckpt");
        try (OutputDir d = OutputDir.of("quantize", out).staged(true).open()) {
            Files.writeString(d.file("config.json"), "v1");
            assertFalse(Files.exists(out), "nothing visible before commit");
            d.commit();
        }
        try (OutputDir d = OutputDir.of("quantize", out).staged(true).overwrite(true).open()) {
            Files.writeString(d.file("config.json"), "v2");
            // a failure: closed without commit
        }
        assertEquals("v1", Files.readString(out.resolve("config.json")));
        try (OutputDir d = OutputDir.of("quantize", out).staged(true).overwrite(true).open()) {
            Files.writeString(d.file("config.json"), "v2");
            d.commit();
        }
        assertEquals("v2", Files.readString(out.resolve("config.json")));
        try (var left = Files.list(tmp)) {
            assertEquals(List.of("ckpt"), left.map(p -> p.getFileName().toString()).toList());
        }
        if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Path plain = Files.createDirectory(tmp.resolve("plain"));
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(out), "the umask decides, not 0700");
            Path plainFile = Files.createFile(tmp.resolve("plain.txt"));
            assertEquals(Files.getPosixFilePermissions(plainFile), Files.getPosixFilePermissions(out.resolve(OutputDir.MARKER)));
        }
    }

    @Test
    void manifestRoundTripsWithHashesTimingsAndRedaction() throws IOException {
        Path model = tmp.resolve("model");
        Files.createDirectories(model);
        Files.writeString(model.resolve("config.json"), "{}");
        Files.write(model.resolve("model.safetensors"), new byte[1000]);
        Path corpus = tmp.resolve("corpus.jsonl");
        Files.writeString(corpus, "abc");
        OutputDir run = OutputDir.of("route", tmp.resolve("run")).open();
        Files.writeString(run.file("metrics.json"), "{\"cv\":0.5}");
        Manifest.Builder b = Manifest.builder("route")
                .input("model", model, true).input("corpus", corpus)
                .parameter("api_key", "sk-live-123").parameter("hfToken", "hf_abc").parameter("client-secret", "s")
                .parameter("OPENAI_API_KEY", "sk-2").parameter("max_tokens_per_sample", 512).parameter("tokenizer", "qwen")
                .parameter("min_gain_per_token", 0.25).parameter("max_added_token_ratio", 1.0).result("tokens", 7)
                .parameter("llm", Map.of("base_url", "http://127.0.0.1:8000", "api_key", "sk-nested"))
                .parameter("out", run.path())
                .seed(42).version("model_revision", "abc123");
        try (Manifest.Phase p = b.phase("forward")) { assertNotNull(p); }
        b.timing("forward", 1.5).output("metrics", run.file("metrics.json"), run.path());
        run.writeManifest(b.build());
        run.commit();

        String text = Files.readString(run.file(OutputDir.MANIFEST));
        for (String secret : List.of("sk-live-123", "hf_abc", "sk-2", "sk-nested", "\"s\"")) assertFalse(text.contains(secret), secret + " leaked: " + text);
        Manifest m = OutputDir.requireComplete(run.path(), "route", "--run");
        assertEquals("route", m.command());
        assertEquals(42L, m.seed());
        assertEquals(Manifest.REDACTED, m.parameters().get("api_key"));
        assertEquals(Manifest.REDACTED, m.parameters().get("hfToken"));
        assertEquals(Manifest.REDACTED, m.parameters().get("client-secret"));
        assertEquals(Manifest.REDACTED, m.parameters().get("OPENAI_API_KEY"));
        assertEquals(512, m.parameters().get("max_tokens_per_sample"));
        assertEquals("qwen", m.parameters().get("tokenizer"));
        assertEquals(0.25, m.parameters().get("min_gain_per_token"), "a number is never a secret");
        assertEquals(1.0, m.parameters().get("max_added_token_ratio"));
        assertEquals(7, m.results().get("tokens"));
        assertEquals(Map.of("base_url", "http://127.0.0.1:8000", "api_key", Manifest.REDACTED), m.parameters().get("llm"));
        assertEquals(run.path().toString(), m.parameters().get("out"));
        assertEquals("abc123", m.versions().get("model_revision"));
        assertEquals(System.getProperty("java.version"), m.versions().get("java").split(" ")[0]);
        assertTrue(m.timings().get("forward") >= 1.5);
        assertEquals(2, m.inputs("model").size());
        Manifest.FileEntry st = m.inputs("model").get(1);
        assertTrue(st.path().endsWith("model.safetensors"));
        assertEquals(1000, st.bytes());
        assertEquals(Sha256.of(model.resolve("model.safetensors")), st.sha256());
        assertEquals(Sha256.of("abc".getBytes(StandardCharsets.US_ASCII)), m.inputs("corpus").get(0).sha256());
        assertEquals(new Manifest.FileEntry("metrics", "metrics.json", 10, Sha256.of(run.file("metrics.json"))), m.outputs().get(0));
        Manifest unhashed = Manifest.builder("x").input("model", model, false).build();
        assertNull(unhashed.inputs().get(0).sha256());
    }

    @Test
    void readerChecksFormatAndVersion() throws IOException {
        Path f = tmp.resolve("manifest.json");
        Manifest.builder("route").build().write(f);
        String ok = Files.readString(f);
        Files.writeString(f, ok.replace("\"format_version\" : 1", "\"format_version\" : 99"));
        assertTrue(assertThrows(RoutecalException.class, () -> Manifest.read(f)).getMessage().contains("newer"));
        Files.writeString(f, ok.replace("\"format_version\" : 1", "\"format_version\" : 0"));
        assertTrue(assertThrows(RoutecalException.class, () -> Manifest.read(f)).getMessage().contains("older"));
        Files.writeString(f, ok.replace("routecal.manifest", "something.else"));
        assertTrue(assertThrows(RoutecalException.class, () -> Manifest.read(f)).getMessage().contains("not a routecal manifest"));
        Files.writeString(f, ok.substring(0, ok.length() / 2));
        assertTrue(assertThrows(RoutecalException.class, () -> Manifest.read(f)).getMessage().contains("truncated?"));
        assertTrue(Manifest.isSecretKey("apiKey") && Manifest.isSecretKey("x-api-key") && !Manifest.isSecretKey("keyword") && !Manifest.isSecretKey("top_k"));
    }
}
