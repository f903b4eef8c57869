package org.routecal.serve;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.quant.MoeMode;
import org.routecal.quant.QuantizeOptions;
import org.routecal.quant.QuantizeStage;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** serve --quantized: our compressed-tensors checkpoint is served dequantized. */
class QuantizedServeTest {
    @TempDir Path dir;

    @Test void quantizedCheckpointIsServedDequantized() throws Exception {
        Path src = Path.of("../tests/fixtures/models/qwen3_moe/v1");
        Random r = new Random(1);
        List<int[]> calib = new ArrayList<>();
        for (int s = 0; s < 4; s++) { int[] ids = new int[16]; for (int i = 0; i < 16; i++) ids[i] = r.nextInt(256); calib.add(ids); }
        org.routecal.quant.QuantizeStageTest.quantize(src, calib, new QuantizeOptions("w4a16", true, 16, false, false, new GptqArgs(128, 0.01, ActOrder.STATIC),
                MoeMode.HYBRID, 0.5, 16, true, true, null, false), dir.resolve("q"), Map.of(), Progress.NONE);
        int[] prompt = calib.get(0);
        try (org.routecal.session.Session session = new org.routecal.session.Session(Progress.NONE)) {
            org.routecal.compute.devices.DeviceOptions cpu = new org.routecal.compute.devices.DeviceOptions();
            cpu.device = "cpu";
            MoeModel orig = ServeCommand.load(session, cpu, src, null).model(), quant = ServeCommand.load(session, cpu, src, dir.resolve("q")).model();
            float[] a = orig.decode(orig.newCache(), prompt, org.routecal.model.ForwardTaps.NONE);
            float[] b = quant.decode(quant.newCache(), prompt, org.routecal.model.ForwardTaps.NONE);
            double diff = 0, scale = 0;
            for (int i = 0; i < a.length; i++) { diff = Math.max(diff, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(a[i])); }
            assertTrue(diff > 1e-4 * scale, "4-bit weights change the logits");
            assertTrue(diff < 0.5 * scale, "but stay close: " + diff + " vs " + scale);
        }
    }

    /**
     * A float checkpoint laid over the model gets its own model instance: the session's copy of the base model, which
     * a notebook's later magics use, keeps the source's weights, during and after serving.
     */
    @Test void aFloatOverlayLeavesTheSessionsModelAlone() throws Exception {
        Path src = Path.of("../tests/fixtures/models/qwen3_moe/v1");
        String q = "model.layers.0.self_attn.q_proj.weight";
        Path overlay = dir.resolve("overlay");
        java.nio.file.Files.createDirectories(overlay);
        int[] prompt = {3, 14, 15, 92, 65, 35};
        try (org.routecal.session.Session session = new org.routecal.session.Session(Progress.NONE)) {
            org.routecal.compute.devices.DeviceOptions cpu = new org.routecal.compute.devices.DeviceOptions();
            cpu.device = "cpu";
            MoeModel base = session.model(src, cpu);
            long[] shape = base.weights().source().shape(q);
            float[] w = base.weights().hostValues(q, shape);
            for (int i = 0; i < w.length; i++) w[i] = -w[i];
            try (var writer = org.routecal.io.safetensors.SafetensorsWriter.toFile(overlay.resolve("model.safetensors"), java.util.Map.of())) {
                writer.addFloat(q, org.routecal.io.safetensors.DType.F32, shape, w);
            }
            float[] before = base.forwardLogits(List.of(prompt), org.routecal.model.ForwardTaps.NONE);
            try (ServeCommand.Overlaid served = ServeCommand.load(session, cpu, src, overlay)) {
                assertTrue(served.owned() && served.model() != base);
                float[] overlaid = served.model().forwardLogits(List.of(prompt), org.routecal.model.ForwardTaps.NONE);
                assertFalse(java.util.Arrays.equals(before, overlaid), "the overlay is served");
                assertArrayEquals(before, base.forwardLogits(List.of(prompt), org.routecal.model.ForwardTaps.NONE), "while serving");
            }
            assertSame(base, session.model(src, cpu));
            assertArrayEquals(before, base.forwardLogits(List.of(prompt), org.routecal.model.ForwardTaps.NONE), "after serving");
        }
    }
}
