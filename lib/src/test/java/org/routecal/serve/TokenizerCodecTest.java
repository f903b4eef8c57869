package org.routecal.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

/** TokenizerCodec over the committed Qwen3 tokenizer fixture; expected renderings come from the fixture (reference tokenizer). */
class TokenizerCodecTest {
    @TempDir Path dir;

    @Test void qwen3ChatRenderingAndStopIds() throws Exception {
        Path src = Path.of("../tests/fixtures/tokenizer/qwen3");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(src.resolve("tokenizer.json.gz")))) {
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        Files.copy(src.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        try (TokenizerCodec c = (TokenizerCodec) Codecs.load(dir, "auto")) {
            JsonNode chats = new ObjectMapper().readTree(Path.of("../tests/fixtures/tokenizer/qwen3_chats.json").toFile());
            JsonNode first = chats.path("chats").get(0);
            List<Map<String, Object>> ms = new ArrayList<>();
            for (JsonNode m : first.path("messages")) ms.add(Map.of("role", m.path("role").asText(), "content", m.path("content").asText()));
            assertEquals(first.path("rendered").asText(), c.renderChat(ms, first.path("add_generation_prompt").asBoolean()));
            assertEquals("Hello, world!", c.decode(c.encode("Hello, world!")));
            assertTrue(c.stopIds().contains(c.encode("<|im_end|>")[0]), "end of turn stops generation");
        }
    }
}
