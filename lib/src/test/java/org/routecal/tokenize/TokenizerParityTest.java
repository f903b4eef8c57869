package org.routecal.tokenize;

import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real Qwen3 tokenizer against transformers 5.17.0 (fixtures from tests/make_tokenizer_fixtures.py). */
class TokenizerParityTest {
    private static Tokenizer tok;

    @BeforeAll
    static void load() { tok = TokenizerFixtures.qwen3Tokenizer(); }

    @Test
    void idsEqualTransformersOnVariedText() {
        JsonNode fx = TokenizerFixtures.json("qwen3_encodings.json");
        int texts = 0;
        for (JsonNode c : fx.get("encodings")) {
            String text = c.get("text").asText();
            assertArrayEquals(ints(c.get("ids")), tok.encode(text).ids(), () -> "ids differ for " + text);
            texts++;
        }
        assertTrue(texts >= 30);
    }

    /**
     * Spans are HF's offsets converted from code points to UTF-16; where HF's overlap (a character split over byte-level
     * tokens) the later token starts at the previous end (Encoding's documented rule). Spans tile the text exactly.
     */
    @Test
    void spansEqualTransformersOffsetsInUtf16() {
        int overlapsSeen = 0;
        int astralTexts = 0;
        int gapsSeen = 0;
        for (JsonNode c : TokenizerFixtures.json("qwen3_encodings.json").get("encodings")) {
            String text = c.get("text").asText();
            Encoding e = tok.encode(text);
            if (text.codePointCount(0, text.length()) != text.length()) astralTexts++;
            int prevEnd = 0;
            StringBuilder tiled = new StringBuilder();
            for (int i = 0; i < e.size(); i++) {
                JsonNode off = c.get("offsets").get(i);
                int hfStart = text.offsetByCodePoints(0, off.get(0).asInt());
                int hfEnd = text.offsetByCodePoints(0, off.get(1).asInt());
                if (hfStart >= prevEnd) {
                    assertEquals(hfStart, e.charStart()[i], "start of token " + i + " in " + text);
                    assertEquals(hfEnd, e.charEnd()[i], "end of token " + i + " in " + text);
                } else {
                    overlapsSeen++;
                    assertEquals(prevEnd, e.charStart()[i], "overlapping start of token " + i + " in " + text);
                    assertEquals(Math.max(hfEnd, prevEnd), e.charEnd()[i], "overlapping end of token " + i + " in " + text);
                }
                assertTrue(e.charStart()[i] <= e.charEnd()[i]);
                prevEnd = e.charEnd()[i];
                tiled.append(text, e.charStart()[i], e.charEnd()[i]);
            }
            // Qwen's NFC normalizer maps e+U+0301 to one char whose offsets cover only the "e": such texts have gaps
            if (Normalizer.isNormalized(text, Normalizer.Form.NFC)) {
                assertEquals(text, tiled.toString(), "spans of byte-level tokens must tile NFC text");
            } else {
                gapsSeen++;
            }
        }
        assertTrue(overlapsSeen > 10, "fixture must exercise split characters");
        assertTrue(astralTexts > 3, "fixture must exercise astral characters");
        assertTrue(gapsSeen > 0, "fixture must exercise a normalizer that changes the text");
    }

    @Test
    void decodeTokenStringsAndVocabularyEqualTransformers() {
        JsonNode fx = TokenizerFixtures.json("qwen3_encodings.json");
        assertEquals(fx.get("len").asInt(), tok.vocabSize());
        for (JsonNode c : fx.get("encodings")) {
            int[] ids = ints(c.get("ids"));
            assertEquals(c.get("decoded").asText(), tok.decode(ids));
            assertEquals(c.get("decoded_prefix").asText(), tok.decode(Arrays.copyOf(ids, (ids.length + 1) / 2)));
            for (int i = 0; i < ids.length; i++) {
                String token = c.get("tokens").get(i).asText();
                assertEquals(token, tok.tokenString(ids[i]));
                assertEquals(ids[i], tok.tokenId(token).getAsInt());
            }
        }
        List<Integer> special = new ArrayList<>();
        for (int id = 0; id < tok.vocabSize(); id++) if (tok.isSpecial(id)) special.add(id);
        List<Integer> want = new ArrayList<>();
        fx.get("special_ids").forEach(n -> want.add(n.asInt()));
        assertEquals(want, special);
    }

    @Test
    void chatTemplateRendersLikeApplyChatTemplate() {
        ChatTemplate template = tok.chatTemplate().orElseThrow();
        ObjectMapper mapper = new ObjectMapper();
        int n = 0;
        for (JsonNode c : TokenizerFixtures.json("qwen3_chats.json").get("chats")) {
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> messages = mapper.convertValue(c.get("messages"), List.class);
            @SuppressWarnings("unchecked")
            Map<String, Object> kwargs = mapper.convertValue(c.get("kwargs"), Map.class);
            String got = template.renderMaps(messages, c.get("add_generation_prompt").asBoolean(), kwargs);
            assertEquals(c.get("rendered").asText(), got, "chat " + c.get("name").asText());
            n++;
        }
        assertTrue(n >= 8);
    }

    @Test
    void typedMessagesRenderLikeMaps() {
        ChatTemplate template = tok.chatTemplate().orElseThrow();
        JsonNode chat = null;
        for (JsonNode c : TokenizerFixtures.json("qwen3_chats.json").get("chats")) {
            if (c.get("name").asText().equals("reasoning_content")) chat = c;
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : chat.get("messages")) {
            messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText(),
                m.has("reasoning_content") ? m.get("reasoning_content").asText() : null));
        }
        assertEquals(chat.get("rendered").asText(), template.render(messages, false, Map.of()));
    }

    @Test
    void missingTokenizerFileIsNamed(@TempDir Path dir) throws Exception {
        RoutecalException e = assertThrows(RoutecalException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString()), e.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        e = assertThrows(RoutecalException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void noTemplateWithoutConfig() {
        try (Tokenizer t = Tokenizer.load(TokenizerFixtures.tiny())) {
            assertFalse(t.chatTemplate().isPresent());
            String text = "The quick brown fox<|end|>";
            Encoding e = t.encode(text);
            assertEquals(text, t.decode(e.ids()));
            assertEquals("<|end|>", t.tokenString(e.ids()[e.size() - 1]));
            assertTrue(t.isSpecial(e.ids()[e.size() - 1]));
        }
    }

    private static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }
}
