package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.io.Json;
import org.routecal.pipeline.Progress;
import org.routecal.quant.ct.CompressedTensorsReader;
import org.routecal.quant.ct.VllmSupport;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.ScaleDType;

/**
 * Every integer width from 2 to 8 through the whole stage (GPTQ) on the Qwen3-MoE fixture: the checkpoint says its
 * width, loads back through {@link CompressedTensorsReader} and runs, its held-out logit error falls with every added
 * bit, and its README.md, manifest and {@code inspect} carry what vLLM can serve of it.
 */
class QuantizeWidthsTest {
    @Test
    void everyWidthEndToEnd(@TempDir Path tmp) throws Exception {
        Path src = QuantizeStageTest.model("qwen3_moe");
        List<int[]> calib = QuantizeStageTest.corpus(8, 32, 1), eval = QuantizeStageTest.corpus(4, 32, 2);
        List<Double> mse = new ArrayList<>();
        for (int bits = 2; bits <= 8; bits++) {
            boolean symmetric = bits != 3; // one asymmetric width: its zero points and their vLLM note
            QuantizeOptions o = new QuantizeOptions("w" + bits + "a16", symmetric, 16, false, true, new GptqArgs(128, 0.01, ActOrder.STATIC),
                    MoeMode.HYBRID, 0.5, 16, true, true, null, false);
            Path out = tmp.resolve("w" + bits);
            QuantizeStage.Result r = QuantizeStageTest.quantize(src, calib, o, out, Map.of(), Progress.NONE);
            JsonNode qc = Json.MAPPER.readTree(out.resolve("config.json").toFile()).get("quantization_config");
            JsonNode weights = qc.get("config_groups").get("group_0").get("weights");
            assertEquals(bits, weights.get("num_bits").asInt());
            assertEquals(symmetric, weights.get("symmetric").asBoolean());
            try (CompressedTensorsReader reader = CompressedTensorsReader.open(out)) {
                assertEquals(new IntScheme(bits, symmetric, 16, ScaleDType.BF16), reader.config().schemeFor("model.layers.0.mlp.experts.3.down_proj", ScaleDType.BF16));
            }
            double m = QuantizeStageTest.logitMse(src, out, eval); // loads through CompressedTensorsReader and runs
            assertTrue(Double.isFinite(m), "w" + bits + ": logits finite");
            mse.add(m);

            List<String> notes = VllmSupport.notes(new IntScheme(bits, symmetric, 16, ScaleDType.BF16));
            assertEquals(notes, r.vllmNotes());
            String readme = Files.readString(out.resolve("README.md"));
            assertTrue(readme.contains("w" + bits + "a16 (int" + bits + " weights"), readme);
            String inspect = QuantizedSummary.of(out, 64).toString();
            assertTrue(inspect.contains("w" + bits + "a16"), inspect);
            if (bits == 4 || bits == 8) {
                assertTrue(notes.isEmpty(), "vLLM's Marlin kernels serve " + bits + " bits");
                assertTrue(readme.contains("No known restriction"), readme);
                assertTrue(inspect.contains("no known restriction"), inspect);
            } else {
                assertFalse(notes.isEmpty());
                for (String n : notes) {
                    assertTrue(readme.contains(n), "README.md lacks: " + n);
                    assertTrue(inspect.contains(n), "inspect lacks: " + n);
                }
            }
            if (!symmetric) assertTrue(notes.stream().anyMatch(n -> n.contains("zero points")), notes.toString());
            JsonNode manifest = Json.MAPPER.readTree(out.resolve("manifest.json").toFile());
            assertEquals(notes.size(), manifest.path("results").path("vllm_notes").size());
        }
        System.out.println("held-out logit MSE by width 2..8: " + mse);
        for (int i = 1; i < mse.size(); i++) {
            assertTrue(mse.get(i) < mse.get(i - 1), "w" + (i + 2) + " MSE " + mse.get(i) + " should be below w" + (i + 1) + "'s " + mse.get(i - 1));
        }
    }
}
