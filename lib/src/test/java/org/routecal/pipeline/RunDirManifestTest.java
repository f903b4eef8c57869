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

class RunDirManifestTest {
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
    void runDirRefusesNonEmptyUnlessOverwriteAndOnlyDeletesRunDirs() throws IOException {
        Path out = tmp.resolve("run");
        RunDir d = RunDir.create(out, false);
        Files.writeString(d.file("plots/layer0.html"), "x");
        RoutecalException e = assertThrows(RoutecalException.class, () -> RunDir.create(out, false));
        assertTrue(e.getMessage().contains("--overwrite"), e.getMessage());
        RunDir again = RunDir.create(out, true);
        assertFalse(again.has("plots"), "overwrite clears the previous run");
        Path foreign = tmp.resolve("home");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("thesis.tex"), "precious");
        e = assertThrows(RoutecalException.class, () -> RunDir.create(foreign, true));
        assertTrue(e.getMessage().contains("refusing"), e.getMessage());
        assertEquals("precious", Files.readString(foreign.resolve("thesis.tex")));
        assertThrows(IllegalArgumentException.class, () -> again.file("../escape.txt"));
        assertThrows(RoutecalException.class, () -> RunDir.openExisting(foreign));
        assertThrows(RoutecalException.class, () -> RunDir.openExisting(tmp.resolve("missing")));
        assertEquals(again.path(), RunDir.openExisting(out).path());
    }

    @Test
    void manifestRoundTripsWithHashesTimingsAndRedaction() throws IOException {
        Path model = tmp.resolve("model");
        Files.createDirectories(model);
        Files.writeString(model.resolve("config.json"), "{}");
        Files.write(model.resolve("model.safetensors"), new byte[1000]);
        Path corpus = tmp.resolve("corpus.jsonl");
        Files.writeString(corpus, "abc");
        RunDir run = RunDir.create(tmp.resolve("run"), false);
        Files.writeString(run.file("metrics.json"), "{\"cv\":0.5}");
        Manifest.Builder b = Manifest.builder("route")
                .input("model", model, true).input("corpus", corpus)
                .parameter("api_key", "sk-live-123").parameter("hfToken", "hf_abc").parameter("client-secret", "s")
                .parameter("OPENAI_API_KEY", "sk-2").parameter("max_tokens_per_sample", 512).parameter("tokenizer", "qwen")
                .parameter("llm", Map.of("base_url", "http://127.0.0.1:8000", "api_key", "sk-nested"))
                .parameter("out", run.path())
                .seed(42).version("model_revision", "abc123");
        try (Manifest.Phase p = b.phase("forward")) { assertNotNull(p); }
        b.timing("forward", 1.5).output("metrics", run.file("metrics.json"), run);
        run.writeManifest(b.build());

        String text = Files.readString(run.file(RunDir.MANIFEST));
        for (String secret : List.of("sk-live-123", "hf_abc", "sk-2", "sk-nested", "\"s\"")) assertFalse(text.contains(secret), secret + " leaked: " + text);
        Manifest m = RunDir.openExisting(run.path()).manifest();
        assertEquals("route", m.command());
        assertEquals(42L, m.seed());
        assertEquals(Manifest.REDACTED, m.parameters().get("api_key"));
        assertEquals(Manifest.REDACTED, m.parameters().get("hfToken"));
        assertEquals(Manifest.REDACTED, m.parameters().get("client-secret"));
        assertEquals(Manifest.REDACTED, m.parameters().get("OPENAI_API_KEY"));
        assertEquals(512, m.parameters().get("max_tokens_per_sample"));
        assertEquals("qwen", m.parameters().get("tokenizer"));
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
