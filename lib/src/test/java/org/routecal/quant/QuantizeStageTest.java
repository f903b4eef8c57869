package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.compute.cpu.Backends;
import org.routecal.model.ForwardTaps;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.quant.ct.CompressedTensorsReader;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.io.parquet.Row;

/** The quantize stage end to end on the tiny HF-made fixture models (tests/fixtures/models). */
public class QuantizeStageTest {
    static {
        try {
            Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Path model(String family) {
        return FixtureTensors.DIR.getParent().resolve("models").resolve(family).resolve("v1");
    }

    static List<int[]> corpus(int samples, int len, long seed) {
        Random r = new Random(seed);
        List<int[]> out = new ArrayList<>();
        for (int s = 0; s < samples; s++) {
            int[] ids = new int[len];
            for (int i = 0; i < len; i++) ids[i] = r.nextInt(256);
            out.add(ids);
        }
        return out;
    }

    /** The stage on a CPU reference backend, as a test runs it. */
    public static QuantizeStage.Result quantize(Path src, List<int[]> calib, QuantizeOptions o, Path out, Map<String, Object> inputs,
                                         Progress progress) {
        try (MoeModel m = MoeModel.load(src)) {
            return QuantizeStage.run(m, calib, o, out, inputs, progress, () -> {});
        }
    }

    static QuantizeOptions opts(MoeMode mode, boolean gptq, int group) {
        return new QuantizeOptions("w4a16", true, group, false, gptq, new GptqArgs(128, 0.01, ActOrder.STATIC), mode, 0.5, 16, true,
                true, null, false);
    }

    /** Mean squared logit difference of a (quantized) model against the original on held-out sequences. */
    static double logitMse(Path original, Path quantized, List<int[]> eval) throws Exception {
        try (MoeModel a = MoeModel.load(original);
             MoeModel b = new MoeModel(quantized, ModelConfig.load(quantized), CompressedTensorsReader.open(quantized), a.backend(), 1L << 28)) {
            float[] la = a.forwardLogits(eval, ForwardTaps.NONE);
            float[] lb = b.forwardLogits(eval, ForwardTaps.NONE);
            double s = 0;
            for (int i = 0; i < la.length; i++) s += (la[i] - lb[i]) * (double) (la[i] - lb[i]);
            return s / la.length;
        }
    }

    @Test
    void everyMoeModeProducesALoadableCheckpointAndGptqBeatsRtn(@TempDir Path tmp) throws Exception {
        Path src = model("qwen3_moe");
        List<int[]> calib = corpus(12, 32, 1), eval = corpus(4, 32, 2);
        QuantizeStage.Result rtn = quantize(src, calib, opts(MoeMode.HYBRID, false, 16), tmp.resolve("rtn"), Map.of(), Progress.NONE);
        double rtnMse = logitMse(src, tmp.resolve("rtn"), eval);
        for (MoeMode mode : MoeMode.values()) {
            Path out = tmp.resolve(mode.id());
            QuantizeStage.Result r = quantize(src, calib, opts(mode, true, 16), out, Map.of(), Progress.NONE);
            assertEquals(rtn.quantized(), r.quantized());
            double mse = logitMse(src, out, eval);
            assertTrue(mse < rtnMse, mode + ": GPTQ logit MSE " + mse + " should beat RTN's " + rtnMse);
            List<Row> t = QuantReport.read(out.resolve("quant_report.parquet"));
            assertEquals(r.quantized(), t.size());
            for (Row row : t) {
                String role = (String) row.get("role");
                assertNotEquals("router", role, "routers are ignored by default");
                if (role.startsWith("expert")) {
                    String h = (String) row.get("hessian"), fb = (String) row.get("fallback");
                    long routed = (Long) row.get("tokens_routed");
                    if (mode == MoeMode.ALL) assertEquals("all", h);
                    else if (routed < 16) assertEquals("all", fb, "min-token policy falls back to all");
                    else assertEquals(mode.id(), h);
                    assertEquals(12 * 32, (long) (Long) row.get("tokens_all"));
                }
            }
            JsonNode qc = new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("quantization_config");
            List<String> ignore = new ArrayList<>();
            qc.get("ignore").forEach(n -> ignore.add(n.asText()));
            assertTrue(ignore.contains("model.layers.0.mlp.gate"));
            assertTrue(ignore.contains("lm_head"));
            assertFalse(ignore.contains("model.layers.0.mlp.experts.0.gate_proj"));
        }
    }

    @Test
    void sharedExpertFamilyAndRoutedModeWithRtnFallback(@TempDir Path tmp) throws Exception {
        Path src = model("qwen2_moe");
        QuantizeOptions o = new QuantizeOptions("w8a16", true, 0, false, true, GptqArgs.DEFAULT, MoeMode.ROUTED, 0.5, 1000, false,
                true, null, false);
        quantize(src, corpus(4, 16, 3), o, tmp.resolve("q"), Map.of(), Progress.NONE);
        List<Row> t = QuantReport.read(tmp.resolve("q/quant_report.parquet"));
        boolean sawShared = false;
        for (Row row : t) {
            if (((String) row.get("role")).startsWith("expert")) assertEquals("rtn", row.get("fallback"), "under 1000 tokens → RTN");
            if (((String) row.get("module")).contains("shared_expert.")) sawShared = true;
            assertFalse(((String) row.get("module")).endsWith("shared_expert_gate"));
        }
        assertTrue(sawShared);
        try (CompressedTensorsReader r = CompressedTensorsReader.open(tmp.resolve("q"))) {
            float[] w = r.readFloat("model.layers.0.mlp.experts.0.up_proj.weight");
            double norm = 0;
            for (float v : w) norm += v * v;
            assertTrue(norm > 0, "RTN fallback never zeroes an expert");
        }
    }

    @Test
    void badInputsAreClearErrors(@TempDir Path tmp) throws Exception {
        Path src = model("qwen3_moe");
        RoutecalException e = assertThrows(RoutecalException.class,
                () -> quantize(src, corpus(2, 8, 4), opts(MoeMode.HYBRID, true, 48), tmp.resolve("a"), Map.of(), Progress.NONE));
        assertTrue(e.getMessage().contains("model.layers.0.self_attn.q_proj") && e.getMessage().contains("48"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("a")));
        Files.createDirectories(tmp.resolve("b"));
        Files.writeString(tmp.resolve("b/notes.txt"), "not ours");
        e = assertThrows(RoutecalException.class,
                () -> quantize(src, corpus(2, 8, 4), opts(MoeMode.HYBRID, false, 16), tmp.resolve("b"), Map.of(), Progress.NONE));
        assertTrue(e.getMessage().contains("not made by routecal"), e.getMessage());
        QuantizeOptions typo = new QuantizeOptions("w4a16", true, 16, false, false, GptqArgs.DEFAULT, MoeMode.HYBRID, 0.5, 16, true,
                true, List.of("lm_head", "re:mlp\\.gate$"), false);
        QuantizeStage.Result r = quantize(src, corpus(2, 8, 4), typo, tmp.resolve("c"), Map.of(), Progress.NONE);
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("re:mlp\\.gate$") && w.contains("matches no")), r.warnings().toString());
    }
}
