package org.routecal.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.io.parquet.ParquetTableReader;
import org.routecal.io.parquet.Row;

/**
 * issue 14's "done when": inspect, route, quantize and evaluate through the real CLI on a fixture of each newer
 * family (tests/fixtures/models, made by transformers), copied beside a word-level tokenizer (vocabulary under the
 * models' 256 ids; the fixtures carry none) as RouteCommandTest does.
 */
class NewFamiliesCliTest {
    static final String[] WORDS = ("the a cat dog sat ran on under mat tree . , and but we can think solve x y = + 1 2 3 "
            + "def return if else for while print value list").split(" ");

    static Path fixture(String family) { return Path.of("..", "tests", "fixtures", "models", family, "v1"); }

    /** The fixture's config and weights with a WordLevel tokenizer.json in a directory of its own. */
    static Path withTokenizer(String family, Path dir) throws Exception {
        Path model = Files.createDirectories(dir.resolve(family));
        for (String f : new String[]{"config.json", "model.safetensors"}) Files.copy(fixture(family).resolve(f), model.resolve(f));
        ObjectMapper json = new ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode tok = json.createObjectNode();
        tok.put("version", "1.0");
        tok.putArray("added_tokens").addObject().put("id", 0).put("content", "[UNK]").put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", false).put("special", true);
        tok.putObject("pre_tokenizer").put("type", "Whitespace");
        com.fasterxml.jackson.databind.node.ObjectNode m = tok.putObject("model");
        m.put("type", "WordLevel").put("unk_token", "[UNK]");
        com.fasterxml.jackson.databind.node.ObjectNode vocab = m.putObject("vocab");
        vocab.put("[UNK]", 0);
        for (int i = 0; i < WORDS.length; i++) vocab.put(WORDS[i], i + 1);
        Files.writeString(model.resolve("tokenizer.json"), json.writeValueAsString(tok));
        return model;
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

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"deepseek_v3", "gpt_oss", "glm4_moe", "llama4_text"})
    void inspectRouteQuantizeEvaluate(String family, @TempDir Path tmp) throws Exception {
        String model = withTokenizer(family, tmp).toString();
        Path corpus = tmp.resolve("corpus.jsonl");
        Random r = new Random(family.hashCode());
        StringBuilder sb = new StringBuilder();
        for (int s = 0; s < 6; s++) {
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < 24; w++) text.append(w == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
            sb.append("{\"sample_id\":\"s").append(s).append("\",\"domain\":\"").append(s % 2 == 0 ? "math" : "code")
                    .append("\",\"text\":\"").append(text).append("\"}\n");
        }
        Files.writeString(corpus, sb);

        Run inspect = run("inspect", "--model", model);
        assertEquals(0, inspect.code(), inspect.err());
        assertFalse(inspect.out().contains("NOT RUNNABLE"), inspect.out());

        Run route = run("route", "--model", model, "--corpus", corpus.toString(), "--out", tmp.resolve("route").toString());
        assertEquals(0, route.code(), route.err());
        JsonNode metrics = new ObjectMapper().readTree(tmp.resolve("route/metrics.json").toFile());
        assertEquals(6 * 24, metrics.get("tokens").asInt(), metrics.toString());
        assertEquals(2, metrics.get("moe_layers").asInt(), "every fixture has two MoE layers");

        Path q = tmp.resolve("w4");
        Run quantize = run("quantize", "--model", model, "--corpus", corpus.toString(), "--out", q.toString(), "--scheme", "w4a16",
                "--group-size", "16", "--min-tokens", "4");
        assertEquals(0, quantize.code(), quantize.err());
        assertTrue(Files.exists(q.resolve("quant_report.parquet")) && Files.exists(q.resolve("manifest.json")));

        Run evaluate = run("evaluate", "--model", model, "--quantized", q.toString(), "--corpus", corpus.toString(), "--out",
                tmp.resolve("e").toString());
        assertEquals(0, evaluate.code(), evaluate.err());
        JsonNode e = new ObjectMapper().readTree(tmp.resolve("e/eval.json").toFile());
        JsonNode w4 = e.get("models").get(1);
        assertTrue(w4.get("kl").asDouble() > 0 && w4.get("top1_agreement").asDouble() <= 1.0, w4.toString());
        List<Row> experts = ParquetTableReader.open(tmp.resolve("e/eval_experts.parquet")).requireFormat("routecal.eval-experts", 1, 1).readAll();
        assertFalse(experts.isEmpty());
        for (Row row : experts) {
            double err = row.getDouble("rel_output_error");
            assertTrue(err > 0 && err < 0.5, family + ": a 4-bit expert's relative output error " + err + " (0: not quantized; large: wrong weights)");
        }
    }
}
