package org.routecal.experiment;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.cli.Main;
import org.routecal.demo.DemoAssets;

/** {@code routecal experiment} end to end on the demo model: sets at equal budget, quantize, one evaluation, the table. */
class ExperimentCommandTest {
    static final String[][] WORDS = {
            {"the", "river", "runs", "under", "an", "old", "stone", "bridge", "and", "birds", "sing"},
            {"ο", "ποταμός", "τρέχει", "κάτω", "από", "την", "παλιά", "γέφυρα", "και", "τα", "πουλιά"},
            {"int", "x", "=", "f(y);", "for", "(i", "=", "0;", "i", "<", "n;", "i++)", "{", "}"}};
    static final String[] DOMAINS = {"en", "el", "code"};

    static void write(Path file, String prefix, int perDomain, Random r) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int d = 0; d < DOMAINS.length; d++) {
            for (int i = 0; i < perDomain; i++) {
                List<String> w = new ArrayList<>();
                for (int k = 0; k < 12 + r.nextInt(12); k++) w.add(WORDS[d][r.nextInt(WORDS[d].length)]);
                sb.append(new ObjectMapper().createObjectNode().put("sample_id", prefix + "/" + DOMAINS[d] + "/" + i).put("domain", DOMAINS[d])
                        .put("text", String.join(" ", w))).append('\n');
            }
        }
        Files.writeString(file, sb);
    }

    @Test
    void tableOfSetsModesAndSchemesWithIntervals(@TempDir Path tmp) throws Exception {
        Path model = DemoAssets.ensure(tmp.resolve("cache"));
        Random r = new Random(1);
        write(tmp.resolve("corpus.jsonl"), "c", 2, r);
        write(tmp.resolve("pool.jsonl"), "p", 12, r);
        write(tmp.resolve("heldout.jsonl"), "h", 4, r);
        Path out = tmp.resolve("exp");
        assertEquals(0, Main.run("experiment", "--model", model.toString(), "--corpus", tmp.resolve("corpus.jsonl").toString(),
                "--pool", tmp.resolve("pool.jsonl").toString(), "--heldout", tmp.resolve("heldout.jsonl").toString(), "--out", out.toString(),
                "--objectives", "stratified,usage,self-sample", "--seeds", "0,1", "--modes", "routed", "--schemes", "w4a16,w3a16",
                "--group-size", "16", "--self-sample-length", "24", "--bootstrap", "200"));
        JsonNode j = new ObjectMapper().readTree(out.resolve("experiment.json").toFile());
        assertEquals("routecal.experiment", j.get("format").asText());
        JsonNode rows = j.get("table").get("rows");
        assertEquals(2 * 4, rows.size(), "2 schemes × (original + 3 objectives)");
        long budget = j.get("parameters").get("budget_tokens").asLong(), originalTokens = j.get("parameters").get("original_tokens").asLong();
        assertEquals(originalTokens, budget, "--budget-ratio 1");
        for (JsonNode row : rows) {
            String set = row.get("set").asText();
            assertEquals(set.equals("original") ? 1 : 2, row.get("seeds").asInt(), set);
            assertEquals(row.get("seeds").asInt(), row.get("seed_mean_delta_nll").size());
            double tokens = row.get("calibration_tokens").asDouble();
            assertTrue(tokens <= originalTokens + budget + 1e-9, set + " stays within the budget: " + tokens);
            if (!set.equals("original")) assertTrue(tokens > originalTokens, set + " adds text");
            for (String k : List.of("mean_delta_nll", "worst_domain_delta_nll", "mean_kl")) {
                JsonNode i = row.get(k);
                assertTrue(i.get("lower").asDouble() <= i.get("estimate").asDouble() + 1e-12 && i.get("estimate").asDouble() <= i.get("upper").asDouble() + 1e-12, set + " " + k);
            }
            assertEquals(set.equals("stratified"), !row.has("minus_baseline"), set);
            assertTrue(row.get("mean_kl").get("estimate").asDouble() > 0, "quantized models differ from the original");
        }
        // the w3 checkpoints lose more than the w4 ones on average
        double w3 = 0, w4 = 0;
        for (JsonNode row : rows) {
            if (row.get("scheme").asText().equals("w3a16")) w3 += row.get("mean_kl").get("estimate").asDouble();
            else w4 += row.get("mean_kl").get("estimate").asDouble();
        }
        assertTrue(w3 > w4, "w3 KL " + w3 + " vs w4 " + w4);
        assertFalse(Files.exists(out.resolve("quantized/usage-s0-routed-w4a16")), "checkpoints are removed after evaluation");
        assertTrue(Files.exists(out.resolve("sets/usage-s1.jsonl")) && Files.exists(out.resolve("eval/eval.json")));
        String html = Files.readString(out.resolve("experiment.html"));
        assertTrue(html.contains("<table") && html.contains("self-sample"));
        assertTrue(Files.readString(out.resolve("experiment.md")).startsWith("| mode | scheme | set |"));
        assertTrue(Files.exists(out.resolve("manifest.json")));
        assertEquals(2, Main.run("experiment", "--model", model.toString(), "--corpus", tmp.resolve("corpus.jsonl").toString(),
                "--pool", tmp.resolve("pool.jsonl").toString(), "--heldout", tmp.resolve("heldout.jsonl").toString(), "--out", out.toString(),
                "--objectives", "nonsense"), "a bad objective is refused");
    }
}
