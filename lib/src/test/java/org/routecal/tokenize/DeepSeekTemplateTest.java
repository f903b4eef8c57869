package org.routecal.tokenize;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A second real template with a different style (bos_token from an AddedToken dict in tokenizer_config.json,
 * namespace counters, tool calls with None content) rendered as transformers renders it.
 */
class DeepSeekTemplateTest {
    @Test
    void rendersLikeApplyChatTemplate(@TempDir Path model) throws IOException {
        Files.copy(TokenizerFixtures.tiny().resolve("tokenizer.json"), model.resolve("tokenizer.json"));
        Files.copy(TokenizerFixtures.dir().resolve("deepseek_v3/tokenizer_config.json"), model.resolve("tokenizer_config.json"));
        ObjectMapper mapper = new ObjectMapper();
        try (Tokenizer tok = Tokenizer.load(model)) {
            ChatTemplate template = tok.chatTemplate().orElseThrow();
            JsonNode chats = TokenizerFixtures.json("deepseek_v3_chats.json").get("chats");
            for (JsonNode c : chats) {
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> messages = mapper.convertValue(c.get("messages"), List.class);
                @SuppressWarnings("unchecked")
                Map<String, Object> kwargs = mapper.convertValue(c.get("kwargs"), Map.class);
                assertEquals(c.get("rendered").asText(), template.renderMaps(messages, c.get("add_generation_prompt").asBoolean(), kwargs),
                    "chat " + c.get("name").asText());
            }
            assertEquals(3, chats.size());
        }
    }
}
