package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.io.Json;
import org.routecal.io.parquet.ParquetTableReader;
import org.routecal.io.parquet.Row;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.quant.alloc.AllocationOptions;
import org.routecal.quant.alloc.AllocationReport;
import org.routecal.quant.alloc.BitAllocation;
import org.routecal.quant.alloc.BitAllocation.Granularity;
import org.routecal.quant.ct.CompressedTensorsReader;
import org.routecal.quant.ct.CtQuantConfig;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.ScaleDType;
import org.routecal.route.RouteParams;
import org.routecal.route.RouteRunDir;
import org.routecal.route.RouteStage;
import org.routecal.route.RoutedSample;

/**
 * Per-expert bit allocation through the quantize stage on the Qwen3-MoE fixture (2 MoE layers × 8 experts, gate/up
 * [32, 64], down [64, 32], group size 16): the budget holds, the widths written are the widths chosen and read back,
 * the objective sits between the uniform widths', and usage can come from a route run of the target corpus.
 */
class BitAllocationStageTest {
    static final Path SRC = QuantizeStageTest.model("qwen3_moe");
    static final List<int[]> CALIB = QuantizeStageTest.corpus(16, 32, 1), EVAL = QuantizeStageTest.corpus(6, 32, 2);

    static QuantizeOptions base() {
        return new QuantizeOptions("w4a16", true, 16, false, true, new GptqArgs(128, 0.01, ActOrder.STATIC), MoeMode.HYBRID, 0.5, 16,
                true, true, null, false);
    }

    /** Stored bits per expert weight of every expert at one width (scales included): what the budget counts. */
    static double uniformBits(int bits) {
        List<int[]> shapes = List.of(new int[]{32, 64}, new int[]{32, 64}, new int[]{64, 32});
        return 8.0 * BitAllocation.costBytes(new IntScheme(bits, true, 16, ScaleDType.BF16), shapes, false) / (3 * 32 * 64);
    }

    static JsonNode json(Path file) throws Exception {
        return Json.MAPPER.readTree(file.toFile());
    }

    @Test
    void perExpertWidthsMeetTheBudgetAndReadBack(@TempDir Path tmp) throws Exception {
        double budget = uniformBits(3) + 1e-9; // every expert at W3 just fits
        Path out = tmp.resolve("alloc");
        QuantizeStage.Result r = QuantizeStageTest.quantize(SRC, CALIB, allocated(budget, Granularity.EXPERT), out, Map.of(), Progress.NONE);
        JsonNode a = json(out.resolve("bit_allocation.json"));
        assertTrue(a.get("cost_bytes").asLong() <= a.get("budget_bytes").asLong(), a.toString());
        assertTrue(a.get("average_bits").asDouble() <= budget + 1e-12, a.toString());
        assertTrue(a.get("proven_optimal").asBoolean());
        // the reconstruction-error objective: the allocation is no worse than any uniform width that fits (W2, W3),
        // and no better than every expert at the widest (W4, over budget)
        Map<Integer, Double> uniform = new HashMap<>();
        for (JsonNode u : a.get("uniform")) uniform.put(u.get("bits").asInt(), u.get("objective").asDouble());
        double objective = a.get("objective").asDouble();
        assertTrue(uniform.get(2) >= objective && uniform.get(3) >= objective && objective >= uniform.get(4),
                "W2 " + uniform.get(2) + " ≥ W3 " + uniform.get(3) + " ≥ allocated " + objective + " ≥ W4 " + uniform.get(4));
        assertTrue(objective < uniform.get(3), "at W3's size the allocation should beat uniform W3 on its own objective");

        // the checkpoint holds each expert at its width, and routecal reads it back and runs it
        List<Row> rows = ParquetTableReader.open(out.resolve("bit_allocation.parquet")).requireFormat(AllocationReport.FORMAT, 1, 1).readAll();
        assertEquals(16, rows.size(), "2 MoE layers × 8 experts");
        java.util.Set<Integer> widths = new java.util.TreeSet<>();
        try (CompressedTensorsReader reader = CompressedTensorsReader.open(out)) {
            CtQuantConfig cfg = reader.config();
            assertTrue(cfg.groups().size() >= 2, "a mixed-precision config");
            for (Row row : rows) {
                int bits = row.getInt("bits");
                widths.add(bits);
                for (String proj : List.of("gate_proj", "up_proj", "down_proj")) {
                    String module = "model.layers." + row.getInt("layer") + ".mlp.experts." + row.getInt("expert") + "." + proj;
                    assertEquals(bits, ((IntScheme) cfg.schemeOf(module)).bits(), module);
                }
            }
            assertEquals(4, ((IntScheme) cfg.schemeOf("model.layers.0.self_attn.q_proj")).bits(), "--scheme for the rest");
        }
        assertTrue(widths.size() >= 2, "the widths differ between experts: " + widths);
        assertTrue(r.details().stream().anyMatch(d -> d.startsWith("bit allocation (expert granularity")), r.details().toString());
        boolean differ = a.get("widths_differ_within_layer").asBoolean();
        assertEquals(differ, r.vllmNotes().stream().anyMatch(n -> n.contains("different widths")), r.vllmNotes().toString());
        assertEquals(differ, Files.readString(out.resolve("README.md")).contains("different widths"));
        String inspect = QuantizedSummary.of(out, 64).toString();
        assertEquals(differ, inspect.contains("different widths"), inspect);
        assertTrue(inspect.contains("w2a16") || inspect.contains("w3a16"), inspect);
        String html = Files.readString(out.resolve("bit_allocation.html"));
        assertTrue(html.contains("Bits per expert") && html.contains("uniform 3"), "the page has the heatmap and the comparison");
        JsonNode manifest = json(out.resolve("manifest.json"));
        assertEquals("expert", manifest.path("results").path("bit_allocation").path("granularity").asText());
        assertEquals(budget, manifest.path("parameters").path("bit_allocation").path("bits_budget").asDouble(), 1e-12);

        // held-out logits against every expert at W2, W3 and W4 (the other modules at --scheme's W4 in all four runs: the
        // uniform runs are the same stage with a budget that only one width fits)
        double mseAlloc = QuantizeStageTest.logitMse(SRC, out, EVAL);
        Map<Integer, Double> mse = new HashMap<>();
        for (int bits : new int[]{2, 3, 4}) {
            Path u = tmp.resolve("w" + bits);
            // candidates {bits, bits + 1} under the cost of all at `bits`: only that fits
            QuantizeStageTest.quantize(SRC, CALIB, base().withAllocation(new AllocationOptions(uniformBits(bits) + 1e-9, List.of(bits, bits + 1),
                    Granularity.EXPERT, null)), u, Map.of(), Progress.NONE);
            for (Row row : ParquetTableReader.open(u.resolve("bit_allocation.parquet")).readAll()) assertEquals(bits, row.getInt("bits"));
            mse.put(bits, QuantizeStageTest.logitMse(SRC, u, EVAL));
        }
        System.out.printf("held-out logit MSE, experts at uniform W2 %.5g, W3 %.5g, allocated (%.3f bits) %.5g, W4 %.5g%n", mse.get(2),
                mse.get(3), a.get("average_bits").asDouble(), mseAlloc, mse.get(4));
        // 6 held-out sequences of a random-init model: a 10% tolerance on each side of the bracket
        assertTrue(mseAlloc <= 1.1 * mse.get(2) && mseAlloc >= mse.get(4) / 1.1, "W4 " + mse.get(4) + " ≤ allocated " + mseAlloc + " ≤ W2 " + mse.get(2));
    }

    static QuantizeOptions allocated(double budget, Granularity g) {
        return base().withAllocation(new AllocationOptions(budget, List.of(2, 3, 4), g, null));
    }

    @Test
    void layerGranularityGivesEachLayerOneWidth(@TempDir Path tmp) throws Exception {
        // one of the two MoE layers at W4 and the other at W3 fits; both at W4 does not
        double budget = 0.4 * uniformBits(3) + 0.6 * uniformBits(4);
        Path out = tmp.resolve("alloc");
        QuantizeStage.Result r = QuantizeStageTest.quantize(SRC, CALIB, allocated(budget, Granularity.LAYER), out, Map.of(), Progress.NONE);
        Map<Integer, java.util.Set<Integer>> perLayer = new java.util.TreeMap<>();
        for (Row row : ParquetTableReader.open(out.resolve("bit_allocation.parquet")).readAll()) {
            perLayer.computeIfAbsent(row.getInt("layer"), k -> new java.util.TreeSet<>()).add(row.getInt("bits"));
        }
        for (var e : perLayer.entrySet()) assertEquals(1, e.getValue().size(), "layer " + e.getKey() + " has widths " + e.getValue());
        List<Integer> layerWidths = new ArrayList<>();
        perLayer.values().forEach(w -> layerWidths.add(w.iterator().next()));
        layerWidths.sort(null);
        assertEquals(List.of(3, 4), layerWidths, "the budget pays for W4 in exactly one layer");
        assertFalse(r.vllmNotes().stream().anyMatch(n -> n.contains("different widths")), r.vllmNotes().toString());
        assertTrue(json(out.resolve("bit_allocation.json")).get("cost_bytes").asLong() <= json(out.resolve("bit_allocation.json")).get("budget_bytes").asLong());
    }

    @Test
    void packedExpertFamiliesAllocateToo(@TempDir Path tmp) throws Exception {
        Path src = QuantizeStageTest.model("gpt_oss"); // 3-D packed experts with biases and a clamped SwiGLU, exported per expert
        Path out = tmp.resolve("alloc");
        QuantizeStageTest.quantize(src, CALIB, allocated(uniformBits(3) + 1e-9, Granularity.EXPERT), out, Map.of(), Progress.NONE);
        JsonNode a = json(out.resolve("bit_allocation.json"));
        assertTrue(a.get("cost_bytes").asLong() <= a.get("budget_bytes").asLong(), a.toString());
        try (CompressedTensorsReader reader = CompressedTensorsReader.open(out)) {
            for (Row row : ParquetTableReader.open(out.resolve("bit_allocation.parquet")).readAll()) {
                String module = "model.layers." + row.getInt("layer") + ".mlp.experts." + row.getInt("expert") + ".down_proj";
                assertEquals(row.getInt("bits"), ((IntScheme) reader.config().schemeOf(module)).bits(), module);
            }
        }
        assertTrue(Double.isFinite(QuantizeStageTest.logitMse(src, out, EVAL)));
    }

    /** Routed samples of random token ids (the fixture has no tokenizer), biased toward ids below 64. */
    static List<RoutedSample> samples(long seed) {
        Random rnd = new Random(seed);
        List<RoutedSample> out = new ArrayList<>();
        for (int s = 0; s < 8; s++) {
            int n = 32;
            int[] ids = new int[n], cs = new int[n], ce = new int[n];
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < n; i++) {
                ids[i] = rnd.nextInt(64);
                cs[i] = text.length();
                text.append(i == 0 ? "" : " ").append("w").append(ids[i]);
                ce[i] = text.length();
            }
            out.add(new RoutedSample("s" + s, "d", text.toString(), ids, cs, ce));
        }
        return out;
    }

    @Test
    void usageFromARouteRunOfTheTargetCorpus(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("route");
        try (MoeModel m = MoeModel.load(SRC)) {
            RouteStage.run(m, samples(3), id -> "w" + id, RouteParams.defaults(), run, Map.of(), Map.of(), Progress.NONE);
        }
        double budget = uniformBits(3) + 1e-9;
        Path out = tmp.resolve("alloc");
        QuantizeStageTest.quantize(SRC, CALIB, base().withAllocation(new AllocationOptions(budget, List.of(2, 3, 4), Granularity.EXPERT, run)),
                out, Map.of(), Progress.NONE);
        Map<String, Double> share = new HashMap<>();
        for (Row row : ParquetTableReader.open(run.resolve(RouteRunDir.EXPERT_STATS)).readAll()) {
            share.put(row.getInt("layer") + "/" + row.getInt("expert"), row.getDouble("share"));
        }
        for (Row row : ParquetTableReader.open(out.resolve("bit_allocation.parquet")).readAll()) {
            assertEquals(share.get(row.getInt("layer") + "/" + row.getInt("expert")), row.getDouble("usage"), 1e-12, "usage is the route run's share");
        }
        assertTrue(json(out.resolve("manifest.json")).path("results").path("bit_allocation").path("usage").asText().contains(RouteRunDir.EXPERT_STATS));

        // a route run of another model is refused, naming why
        Path other = tmp.resolve("route-other");
        try (MoeModel m = MoeModel.load(QuantizeStageTest.model("qwen2_moe"))) {
            RouteStage.run(m, samples(3), id -> "w" + id, RouteParams.defaults(), other, Map.of(), Map.of(), Progress.NONE);
        }
        RoutecalException e = assertThrows(RoutecalException.class, () -> QuantizeStageTest.quantize(SRC, CALIB, base().withAllocation(
                new AllocationOptions(budget, List.of(2, 3, 4), Granularity.EXPERT, other)), tmp.resolve("x"), Map.of(), Progress.NONE));
        assertTrue(e.getMessage().contains("another model"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("x")));
    }

    /** The routing-blind comparison: every expert weighs the same, and the manifest says so. */
    @Test
    void uniformUsageIgnoresRouting(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("uniform");
        QuantizeStageTest.quantize(SRC, CALIB, base().withAllocation(new AllocationOptions(uniformBits(3) + 1e-9, List.of(2, 3, 4),
                Granularity.EXPERT, null, true)), out, Map.of(), Progress.NONE);
        List<Row> rows = ParquetTableReader.open(out.resolve("bit_allocation.parquet")).readAll();
        Set<Double> usages = new HashSet<>();
        for (Row row : rows) usages.add(row.getDouble("usage"));
        assertEquals(1, usages.size(), "one usage for every expert: " + usages);
        assertTrue(json(out.resolve("manifest.json")).path("results").path("bit_allocation").path("usage").asText().contains("uniform"));
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> new AllocationOptions(4, List.of(2, 4), Granularity.EXPERT, tmp, true));
        assertTrue(both.getMessage().contains("--usage-run"), both.getMessage());
    }

    @Test
    void budgetsAndSchemesItCannotMeetAreClearErrors(@TempDir Path tmp) {
        RoutecalException e = assertThrows(RoutecalException.class, () -> QuantizeStageTest.quantize(SRC, CALIB, base().withAllocation(
                new AllocationOptions(2.5, List.of(2, 3, 4), Granularity.EXPERT, null)), tmp.resolve("a"), Map.of(), Progress.NONE));
        assertTrue(e.getMessage().contains("--bits-budget 2.500 is below") && e.getMessage().contains("w2a16 3.0"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("a")), "nothing is left behind");
        QuantizeOptions fp8 = new QuantizeOptions("fp8", true, 0, false, true, GptqArgs.DEFAULT, MoeMode.HYBRID, 0.5, 16, true, true, null,
                false).withAllocation(new AllocationOptions(4, List.of(2, 4), Granularity.LAYER, null));
        e = assertThrows(RoutecalException.class, () -> QuantizeStageTest.quantize(SRC, CALIB, fp8, tmp.resolve("b"), Map.of(), Progress.NONE));
        assertTrue(e.getMessage().contains("--scheme must be one of w2a16"), e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> new AllocationOptions(3.5, List.of(3), Granularity.LAYER, null));
        assertTrue(bad.getMessage().contains("at least two"), bad.getMessage());
    }
}
