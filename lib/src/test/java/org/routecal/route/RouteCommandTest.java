package org.routecal.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.cli.Main;
import org.routecal.io.Jsonl;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code route} and {@code bracket} commands through the real CLI parser, on the tiny Qwen3-MoE fixture with a
 * word-level tokenizer (vocabulary under the model's 256 ids), plus the bad-input cases of issue 3.
 */
class RouteCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String[] WORDS = ("the a cat dog sat ran on under mat tree . , and but we can think solve x y = + 1 2 3 "
            + "def return if else for while print value list").split(" ");
    static Path model;

    @BeforeAll
    static void makeModel(@TempDir Path dir) throws Exception {
        model = dir.resolve("model");
        Files.createDirectories(model);
        Path fx = RouteStageTest.fixture("qwen3_moe");
        Files.copy(fx.resolve("config.json"), model.resolve("config.json"));
        Files.copy(fx.resolve("model.safetensors"), model.resolve("model.safetensors"));
        ObjectNode tok = JSON.createObjectNode();
        tok.put("version", "1.0");
        tok.putArray("added_tokens").addObject().put("id", 0).put("content", "[UNK]").put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", false).put("special", true);
        tok.putObject("pre_tokenizer").put("type", "Whitespace");
        ObjectNode m = tok.putObject("model");
        m.put("type", "WordLevel").put("unk_token", "[UNK]");
        ObjectNode vocab = m.putObject("vocab");
        vocab.put("[UNK]", 0);
        for (int i = 0; i < WORDS.length; i++) vocab.put(WORDS[i], i + 1);
        Files.writeString(model.resolve("tokenizer.json"), JSON.writeValueAsString(tok));
    }

    @Test
    void routeAndBracketFromTheCommandLine(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("corpus.jsonl");
        Files.writeString(corpus, String.join("\n",
                "{\"sample_id\": \"7\", \"domain\": \"chat\", \"text\": \"the cat sat on the mat . we can think\"}",
                "{\"sample_id\": \"8\", \"domain\": \"code\", \"text\": \"def x return value if y else list\"}",
                "{\"sample_id\": \"9\", \"domain\": \"math\", \"text\": \"solve x + 1 = 3 and y = 2 , but think\"}") + "\n");
        Path out = dir.resolve("run");
        Run r = run("route", "--model", model.toString(), "--corpus", corpus.toString(), "--out", out.toString(), "--jsonl", "--batch-tokens", "8");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("routed"), r.out);
        List<JsonNode> lines = Jsonl.read(out.resolve(RouteRunDir.TOKEN_ROUTING));
        assertEquals(10 + 8 + 13, lines.size());
        assertEquals("cat", lines.get(1).get("token_str").asText());
        Run b = run("bracket", "--run", out.toString(), "--mode", "q_sensitivity", "--after", "mat", "--blue-x", "0.9", "--blue-y", "-1");
        assertEquals(0, b.code, b.err);
        List<JsonNode> rows = Jsonl.read(out.resolve("bracketed_q_sensitivity.jsonl"));
        assertEquals(3, rows.size());
        // blue box x < 0.9, y > -1 takes every token (x ≤ 0.5 with top-2 of 8 and 25 % sets): all tokens after "mat" are
        // blue; the whitespace pre-tokenizer's spans leave the space before "." outside the tag
        assertEquals("the cat sat on the mat <blue>. we can think</blue>", rows.get(0).get("text").asText());
        assertEquals(4, rows.get(0).get("n_tokens_blue").asInt());
        assertEquals("def x return value if y else list", rows.get(1).get("text").asText(), "no marker: nothing tagged");
        Run again = run("route", "--model", model.toString(), "--corpus", corpus.toString(), "--out", out.toString());
        assertEquals(2, again.code);
        assertTrue(again.err.contains("--overwrite"), again.err);
    }

    @Test
    void badInputGivesClearErrors(@TempDir Path dir) throws Exception {
        Path empty = dir.resolve("empty.jsonl");
        Files.writeString(empty, "");
        assertError(dir, empty, "empty");
        Path noText = dir.resolve("notext.jsonl");
        Files.writeString(noText, "{\"domain\": \"chat\", \"text\": \"the cat\"}\n{\"domain\": \"chat\", \"title\": \"x\"}\n");
        assertError(dir, noText, "notext.jsonl");
        Path chat = dir.resolve("chat.jsonl");
        Files.writeString(chat, "{\"domain\": \"chat\", \"messages\": [{\"role\": \"user\", \"content\": \"the cat\"}]}\n");
        assertError(dir, chat, "template");
        Path ok = dir.resolve("ok.jsonl");
        Files.writeString(ok, "{\"domain\": \"chat\", \"text\": \"the cat\"}\n");
        Run r = run("route", "--model", model.toString(), "--corpus", ok.toString(), "--out", dir.resolve("o").toString(), "--domains", "poetry");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("poetry"), r.err);
        Run b = run("bracket", "--run", dir.resolve("nothing").toString(), "--mode", "balance");
        assertEquals(2, b.code);
        assertTrue(b.err.contains("directory not found"), b.err);
        Run m = run("bracket", "--run", dir.toString(), "--mode", "sideways");
        assertEquals(2, m.code);
        assertTrue(m.err.contains("sideways"), m.err);
    }

    private static void assertError(Path dir, Path corpus, String expected) {
        Run r = run("route", "--model", model.toString(), "--corpus", corpus.toString(), "--out", dir.resolve("o").toString());
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains("error: ") && r.err.contains(expected), r.err);
        assertTrue(!r.err.contains("\tat "), "no stack trace: " + r.err);
    }

    record Run(int code, String out, String err) {}

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
