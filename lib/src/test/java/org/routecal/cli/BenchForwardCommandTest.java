package org.routecal.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench-forward --model} (what tests/cpu/side_by_side.py times against HF transformers) through the real CLI on
 * the qwen3_moe fixture: fp32 and bf16 precision, warm-up passes, one rate per repeat, the last position's top-5, and a
 * clear refusal of an unknown precision.
 */
class BenchForwardCommandTest {
    @Test
    void timesACheckpointAtFp32AndBf16(@TempDir Path tmp) throws Exception {
        Path tokens = Files.writeString(tmp.resolve("tokens.txt"), "1 5 9 13 17 21 25 29 33 37 41 45 49 53 57 61");
        Path model = NewFamiliesCliTest.fixture("qwen3_moe");
        ObjectMapper json = new ObjectMapper();
        for (String precision : new String[]{"fp32", "bf16"}) {
            Path out = tmp.resolve(precision + ".json");
            var run = NewFamiliesCliTest.run("bench-forward", "--model", model.toString(), "--tokens-file", tokens.toString(),
                    "--repeats", "3", "--warmup-seconds", "0.2", "--precision", precision, "--out", out.toString());
            assertEquals(0, run.code(), run.err());
            JsonNode r = json.readTree(out.toFile());
            assertEquals(precision, r.get("precision").asText());
            assertEquals(16, r.get("tokens").asInt());
            assertTrue(r.get("warmup_passes").asInt() >= 1, r.toString());
            assertEquals(3, r.get("forward_tokens_per_s_each").size());
            assertEquals(5, r.get("last_position_top5").size());
            assertTrue(r.get("forward_tokens_per_s_median").asDouble() > 0);
        }
        var bad = NewFamiliesCliTest.run("bench-forward", "--model", model.toString(), "--tokens-file", tokens.toString(),
                "--precision", "fp8", "--out", tmp.resolve("bad.json").toString());
        assertNotEquals(0, bad.code());
        assertTrue((bad.out() + bad.err()).contains("--precision"), bad.err());
        assertTrue(!Files.exists(tmp.resolve("bad.json")), "nothing written on bad input");
    }
}
