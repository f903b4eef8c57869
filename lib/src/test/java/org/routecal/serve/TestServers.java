package org.routecal.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Servers and models for the serve tests. */
final class TestServers {
    static final Path TINY = Path.of("../tests/fixtures/models/qwen3_moe/v1");

    private TestServers() {}

    /** Loopback, any free port. */
    static OpenAiServer start(ServedModel model, int maxConcurrent, int maxQueue) {
        return OpenAiServer.start(model, OpenAiServer.Options.loopback().withLimits(maxConcurrent, maxQueue));
    }

    /**
     * The tiny fixture with an 8192-token context (its weights unchanged; RoPE needs no table): long generations of a
     * few seconds, so that a request is reliably still running when a test drains the server.
     */
    static Path tinyWithLongContext(Path dir) throws IOException {
        Path out = Files.createDirectories(dir.resolve("tiny-8k"));
        String config = Files.readString(TINY.resolve("config.json"));
        String longer = config.replace("\"max_position_embeddings\": 256", "\"max_position_embeddings\": 8192");
        if (longer.equals(config)) throw new IllegalStateException("fixture config changed: no max_position_embeddings 256");
        Files.writeString(out.resolve("config.json"), longer);
        Files.copy(TINY.resolve("model.safetensors"), out.resolve("model.safetensors"));
        return out;
    }
}
