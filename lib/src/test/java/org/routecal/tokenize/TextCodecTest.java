package org.routecal.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

/** The two codecs; expected renderings come from the Qwen3 fixture (the reference tokenizer's apply_chat_template). */
class TextCodecTest {
    @TempDir Path dir;

    @Test void qwen3ChatRenderingAndStopIds() throws Exception {
        Path src = Path.of("../tests/fixtures/tokenizer/qwen3");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(src.resolve("tokenizer.json.gz")))) {
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        Files.copy(src.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        try (TextCodec c = TextCodec.load(dir, "auto")) {
            JsonNode chats = Json.MAPPER.readTree(Path.of("../tests/fixtures/tokenizer/qwen3_chats.json").toFile());
            JsonNode first = chats.path("chats").get(0);
            List<ChatMessage> ms = new ArrayList<>();
            for (JsonNode m : first.path("messages")) ms.add(ChatMessage.fromJson(m, "m"));
            assertEquals(first.path("rendered").asText(), c.renderChat(ms, first.path("add_generation_prompt").asBoolean(), Map.of()));
            assertEquals("Hello, world!", c.decode(c.ids("Hello, world!")));
            assertTrue(c.stopIds().contains(c.ids("<|im_end|>")[0]), "end of turn stops generation");
        }
        assertTrue(assertThrows(RoutecalException.class, () -> TextCodec.load(dir.resolve("none"), "auto")).getMessage().contains("--tokenizer byte"));
    }

    /** Byte spans follow Encoding's contract: the first byte of a multi-byte character gets it, the rest are empty. */
    @Test void byteCodecSpansTileTheText() {
        String text = "aé😀b";
        Encoding e = new ByteCodec().encode(text);
        assertEquals(1 + 2 + 4 + 1, e.size());
        assertEquals(text, new ByteCodec().decode(e.ids()));
        StringBuilder tiled = new StringBuilder();
        for (int i = 0; i < e.size(); i++) {
            assertTrue(i == 0 || e.charStart()[i] >= e.charEnd()[i - 1], "spans do not overlap");
            tiled.append(text, e.charStart()[i], e.charEnd()[i]);
        }
        assertEquals(text, tiled.toString());
    }
}
