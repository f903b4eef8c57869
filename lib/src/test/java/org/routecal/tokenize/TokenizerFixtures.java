package org.routecal.tokenize;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Locates tests/fixtures/tokenizer (made by tests/make_tokenizer_fixtures.py) and unpacks the Qwen3 tokenizer once. */
public final class TokenizerFixtures {
    private static Path qwen3Dir;
    private static Tokenizer qwen3Tokenizer;

    private TokenizerFixtures() { }

    /**
     * The Qwen3 tokenizer, loaded once per test JVM (loading the 11 MB tokenizer.json is the slow part of these tests);
     * shared, so callers must not close it.
     */
    public static synchronized Tokenizer qwen3Tokenizer() {
        if (qwen3Tokenizer == null) qwen3Tokenizer = Tokenizer.load(qwen3());
        return qwen3Tokenizer;
    }

    /** A 300-token byte-level BPE (tests/fixtures/tokenizer/tiny) with no tokenizer_config.json, hence no chat template. */
    public static Path tiny() { return dir().resolve("tiny"); }

    public static Path dir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path d = p.resolve("tests/fixtures/tokenizer");
            if (Files.isDirectory(d)) return d;
        }
        throw new IllegalStateException("tests/fixtures/tokenizer not found above " + Path.of("").toAbsolutePath());
    }

    public static JsonNode json(String name) {
        try {
            return new ObjectMapper().readTree(dir().resolve(name).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A model-like directory with tokenizer.json (gunzipped from the fixture) and tokenizer_config.json. */
    public static synchronized Path qwen3() {
        if (qwen3Dir != null) return qwen3Dir;
        try {
            Path d = Files.createTempDirectory("qwen3-tokenizer");
            try (InputStream in = new GZIPInputStream(Files.newInputStream(dir().resolve("qwen3/tokenizer.json.gz")))) {
                Files.copy(in, d.resolve("tokenizer.json"));
            }
            Files.copy(dir().resolve("qwen3/tokenizer_config.json"), d.resolve("tokenizer_config.json"));
            qwen3Dir = d;
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
