package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.compute.Backend;
import org.routecal.compute.devices.Devices;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.CheckpointLayout;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.quant.ct.CompressedTensorsReader;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;

/**
 * W4A16 GPTQ end to end on the newer families' fixtures, including the checkpoints published quantized (FP8 blocks,
 * MXFP4) that users requantize: the output has no stored FP8/MXFP4 parts and no packed expert tensors left, a packed
 * family's experts are per-expert Linears (quantized) with their biases, it loads back through the
 * compressed-tensors reader with every key claimed, every expert's dequantized weight is its source slice (same
 * orientation: cosine ≥ 0.95), and GPTQ calibrated through the family's forward pass (biases, GPT-OSS's activation,
 * Llama 4's scaled expert inputs) predicts the source better than rounding does.
 */
class NewFamilyQuantizeTest {
    static final QuantizeOptions W4A16 = new QuantizeOptions("w4a16", true, 16, false, true, new GptqArgs(128, 0.01, ActOrder.STATIC),
            MoeMode.HYBRID, 0.5, 8, true, true, null, false);

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"deepseek_v3_fp8", "gpt_oss_mxfp4", "gpt_oss", "llama4_text", "deepseek_v3", "glm4_moe"})
    void requantizesToW4A16AndLoadsBack(String family, @TempDir Path tmp) throws Exception {
        Path src = QuantizeStageTest.model(family), out = tmp.resolve("q");
        List<int[]> calib = QuantizeStageTest.corpus(8, 24, 5), eval = QuantizeStageTest.corpus(3, 20, 6);
        QuantizeStage.Result r = QuantizeStageTest.quantize(src, calib, W4A16, out, Map.of(), Progress.NONE);
        assertTrue(r.quantized() > 0, r.toString());
        QuantizeOptions rtn = new QuantizeOptions("w4a16", true, 16, false, false, W4A16.gptqArgs(), MoeMode.HYBRID, 0.5, 8, true, true, null, false);
        QuantizeStageTest.quantize(src, calib, rtn, tmp.resolve("rtn"), Map.of(), Progress.NONE);

        try (SafetensorsCheckpoint written = SafetensorsCheckpoint.open(out)) {
            for (String n : written.names()) {
                assertFalse(n.endsWith("_blocks") || n.endsWith("_scales") || n.endsWith("weight_scale_inv"), "stored source encoding copied: " + n);
                assertFalse(n.endsWith("experts.gate_up_proj") || n.endsWith("experts.down_proj") || n.endsWith("_proj_bias"),
                        "packed expert tensor copied: " + n);
                assertFalse(written.info(n).dtype() == org.routecal.io.safetensors.DType.F8_E4M3, "FP8 codes copied: " + n);
            }
            if (family.startsWith("gpt_oss")) {
                assertTrue(written.contains("model.layers.1.mlp.experts.7.down_proj.bias"), "per-expert biases written");
                assertTrue(written.contains("model.layers.0.mlp.experts.3.gate_proj.weight_packed"), "experts quantized per expert");
            }
        }
        try (Backend cpu = Devices.cpu();
             MoeModel a = new MoeModel(src, ModelConfig.load(src), org.routecal.model.CheckpointSource.open(src), cpu, 1L << 28);
             MoeModel b = new MoeModel(out, ModelConfig.load(out), CompressedTensorsReader.open(out), cpu, 1L << 28)) {
            assertEquals(List.of(), List.copyOf(CheckpointLayout.unclaimed(b.config(), b.weights().source())), "every written key claimed");
            ModelConfig c = a.config();
            int expertsChecked = 0;
            for (int l = 0; l < c.layerCount(); l++) {
                if (!c.isMoeLayer(l)) continue;
                for (LinearModules.Module m : LinearModules.ofLayer(c, l)) {
                    if (m.expert() < 0) continue;
                    long[] s = a.weights().shape(m.module() + ".weight");
                    float[] orig = a.weights().hostValues(m.module() + ".weight", s);
                    float[] deq = b.weights().hostValues(m.module() + ".weight", s);
                    assertTrue(cosine(orig, deq) >= 0.95, m.module() + ": dequantized weight is not its source slice (cosine " + cosine(orig, deq) + ")");
                    expertsChecked++;
                }
            }
            assertEquals(c.expertCount() * 3 * (int) java.util.stream.IntStream.range(0, c.layerCount()).filter(c::isMoeLayer).count(), expertsChecked);
            double gptq = QuantizeStageTest.logitMse(src, out, eval), rounded = QuantizeStageTest.logitMse(src, tmp.resolve("rtn"), eval);
            System.out.printf("%s: W4A16 g16 logit MSE GPTQ %.5f, RTN %.5f%n", family, gptq, rounded);
            assertTrue(gptq < rounded, family + ": GPTQ logit MSE " + gptq + " should beat RTN's " + rounded);
        }
    }

    private static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * (double) b[i];
            aa += a[i] * (double) a[i];
            bb += b[i] * (double) b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }
}
