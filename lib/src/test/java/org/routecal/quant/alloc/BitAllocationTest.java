package org.routecal.quant.alloc;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.io.parquet.ParquetTableReader;
import org.routecal.io.parquet.Row;
import org.routecal.quant.alloc.BitAllocation.Candidate;
import org.routecal.quant.alloc.BitAllocation.Expert;
import org.routecal.quant.alloc.BitAllocation.Granularity;
import org.routecal.quant.alloc.BitAllocation.Request;
import org.routecal.quant.alloc.BitAllocation.Result;
import org.routecal.quant.ct.CtQuantConfig;
import org.routecal.quant.ct.VllmSupport;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.ScaleDType;

/**
 * Allocation on a hand-made MoE (2 layers × 4 experts, gate/up [64, 128], down [128, 64]) whose sensitivities fall 4×
 * per bit, so the optimum can be worked out by hand: with costs linear in the width, moving an expert from 3 to 4 bits
 * pays for moving another from 3 to 2 exactly, and gains u·s·3/256 against a loss of u'·s'·12/256 — worth it when
 * u·s > 4·u'·s'.
 */
class BitAllocationTest {
    static {
        try {
            Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static final List<int[]> SHAPES = List.of(new int[]{64, 128}, new int[]{64, 128}, new int[]{128, 64});
    static final long WEIGHTS = 3 * 64 * 128;

    static IntScheme scheme(int bits) {
        return new IntScheme(bits, true, 32, ScaleDType.BF16);
    }

    /** usage·scale of the 8 experts: layer 0 = [100, 1, 1, 1], layer 1 = [50, 10, 5, 1] (usage 0.5 × sensitivity 2·…). */
    static final double[][] IMPORTANCE = {{100, 1, 1, 1}, {50, 10, 5, 1}};

    static List<Expert> experts() {
        List<Expert> out = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            for (int e = 0; e < 4; e++) {
                List<Candidate> c = new ArrayList<>();
                for (int b = 2; b <= 4; b++) c.add(new Candidate(b, BitAllocation.costBytes(scheme(b), SHAPES, false), 2 * IMPORTANCE[l][e] * Math.pow(4, -b)));
                out.add(new Expert(l, e, 0.5, WEIGHTS, c));
            }
        }
        return out;
    }

    static long uniformCost(int bits) {
        return 8 * BitAllocation.costBytes(scheme(bits), SHAPES, false);
    }

    static int[] widths(Result r) {
        return r.assignments().stream().mapToInt(a -> a.chosen().bits()).toArray();
    }

    @Test
    void costsCountTheOverhead() {
        // per module at b bits, symmetric g32 with BF16 scales: b·rows·cols/8 + rows·(cols/32)·2 + 16 (shape)
        assertEquals(3 * (3 * 64 * 128 / 8 + 64 * 4 * 2 + 16) - (64 * 4 * 2 - 128 * 2 * 2), BitAllocation.costBytes(scheme(3), SHAPES, false));
        // so "3 bits" stores 3.5 bits per weight; a 3.5-bit budget cannot afford every expert at 4 bits
        assertEquals(3.5 + 48 * 8.0 / WEIGHTS, 8.0 * BitAllocation.costBytes(scheme(3), SHAPES, false) / WEIGHTS, 1e-12); // + weight_shape
        long budget = BitAllocation.budgetForAverageBits(3.5 + 0.5 + 0.01, 8 * WEIGHTS);
        assertTrue(budget < uniformCost(4) && budget > uniformCost(3));
    }

    @Test
    void perExpertOptimumIsTheHandWorkedOne() {
        Result r = BitAllocation.allocate(new Request(experts(), uniformCost(3), Granularity.EXPERT, null));
        // 100 > 4·1, 50 > 4·1, 10 > 4·1, 5 > 4·1: the four important experts at 4 bits, the four others at 2
        assertArrayEquals(new int[]{4, 2, 2, 2, 4, 4, 4, 2}, widths(r));
        assertEquals(uniformCost(3), r.costBytes());
        assertTrue(r.solution().provenOptimal());
        double want = (100 + 50 + 10 + 5) / 256.0 + 4 / 16.0;
        assertEquals(want, r.solution().objective(), 1e-12);
        assertTrue(r.widthsDifferWithinLayer());
        BitAllocation.Uniform u3 = r.uniform().stream().filter(u -> u.bits() == 3).findFirst().orElseThrow();
        assertEquals(169 / 64.0, u3.objective(), 1e-12);
        assertTrue(u3.fitsBudget());
        assertTrue(r.solution().objective() < u3.objective());
        assertFalse(r.uniform().stream().filter(u -> u.bits() == 4).findFirst().orElseThrow().fitsBudget());
        // the brute force over all 3^8 assignments agrees
        List<MultipleChoiceKnapsack.Item> items = new ArrayList<>();
        for (Expert e : experts()) {
            long[] c = e.candidates().stream().mapToLong(Candidate::costBytes).toArray();
            double[] v = e.candidates().stream().mapToDouble(x -> 0.5 * x.sensitivity()).toArray();
            items.add(new MultipleChoiceKnapsack.Item(c, v));
        }
        assertEquals(MultipleChoiceKnapsackTest.bruteForce(items, uniformCost(3)), r.solution().objective(), 1e-12);
    }

    @Test
    void perLayerGivesEachLayerOneWidthAndTheLayerTermMovesIt() {
        Result r = BitAllocation.allocate(new Request(experts(), uniformCost(3), Granularity.LAYER, null));
        // layers weigh 103 and 66: 4+2 bits would cost 103/256 + 66/16 > 169/64 for 3+3, so both stay at 3
        assertArrayEquals(new int[]{3, 3, 3, 3, 3, 3, 3, 3}, widths(r));
        assertFalse(r.widthsDifferWithinLayer());
        // weigh layer 1 ten times: 103/16 + 660/256 < 763/64, so layer 1 goes to 4 bits and layer 0 pays with 2
        Result w = BitAllocation.allocate(new Request(experts(), uniformCost(3), Granularity.LAYER, Map.of(1, 10.0)));
        assertArrayEquals(new int[]{2, 2, 2, 2, 4, 4, 4, 4}, widths(w));
        assertEquals(103 / 16.0 + 660 / 256.0, w.solution().objective(), 1e-12);
    }

    @Test
    void mixedCheckpointConfigAndReports(@TempDir Path tmp) throws IOException {
        Result r = BitAllocation.allocate(new Request(experts(), uniformCost(3), Granularity.EXPERT, null));
        Map<String, QuantScheme> modules = new LinkedHashMap<>();
        for (BitAllocation.Assignment a : r.assignments()) {
            for (String p : new String[]{"gate_proj", "up_proj", "down_proj"}) {
                modules.put("model.layers." + a.expert().layer() + ".mlp.experts." + a.expert().expert() + "." + p, scheme(a.chosen().bits()));
            }
        }
        CtQuantConfig cfg = CtQuantConfig.mixed(scheme(3), modules, ActOrder.NONE, List.of("lm_head"));
        assertEquals(3, cfg.groups().size(), "the Linear default plus one group per other width");
        for (Map.Entry<String, QuantScheme> e : modules.entrySet()) assertEquals(e.getValue(), cfg.schemeOf(e.getKey()), e.getKey());
        assertEquals(scheme(3), cfg.schemeOf("model.layers.0.self_attn.q_proj"));
        assertTrue(VllmSupport.notes(cfg, r.widthsDifferWithinLayer()).stream().anyMatch(s -> s.contains("expert 0")));

        AllocationReport.writeParquet(tmp.resolve("bit_allocation.parquet"), r);
        AllocationReport.writeJson(tmp.resolve("bit_allocation.json"), r);
        ParquetTableReader pr = ParquetTableReader.open(tmp.resolve("bit_allocation.parquet")).requireFormat(AllocationReport.FORMAT, 1, 1);
        List<Row> rows = pr.readAll();
        assertEquals(8, rows.size());
        assertEquals(4, rows.get(0).getInt("bits"));
        assertEquals(4.5 + 48 * 8.0 / WEIGHTS, rows.get(0).getDouble("bits_per_weight"), 1e-12);
        assertEquals(rows.get(0).getDouble("objective_weight") * rows.get(0).getDouble("sensitivity"), rows.get(0).getDouble("objective"), 1e-15);
        assertEquals("true", pr.metadata().get("proven_optimal"));
        assertEquals("expert", pr.metadata().get("granularity"));
        JsonNode j = new ObjectMapper().readTree(tmp.resolve("bit_allocation.json").toFile());
        assertEquals(AllocationReport.FORMAT, j.get("format").asText());
        assertEquals(3, j.get("uniform").size());
        assertEquals(2, j.get("experts").get(1).get("bits").asInt());
        assertEquals(r.averageBits(), j.get("average_bits").asDouble(), 1e-12);
    }

    @Test
    void qwen3MoeScaleIsProvenOptimalInSeconds() {
        // 48 layers × 128 experts at Qwen3-30B-A3B geometry, widths {2,3,4,5,6,8} g128: ~227 M DP cells, too many for
        // the default choice table, so the value-only DP must prove the LP-greedy solution (or bound it)
        java.util.Random rnd = new java.util.Random(1);
        List<int[]> shapes = List.of(new int[]{768, 2048}, new int[]{768, 2048}, new int[]{2048, 768});
        int[] widths = {2, 3, 4, 5, 6, 8};
        long[] cost = new long[widths.length];
        for (int j = 0; j < widths.length; j++) cost[j] = BitAllocation.costBytes(new IntScheme(widths[j], true, 128, ScaleDType.BF16), shapes, false);
        List<Expert> ex = new ArrayList<>();
        for (int l = 0; l < 48; l++) {
            for (int e = 0; e < 128; e++) {
                double s = Math.exp(rnd.nextGaussian()), u = Math.exp(rnd.nextGaussian() * 1.5);
                List<Candidate> c = new ArrayList<>();
                for (int j = 0; j < widths.length; j++) c.add(new Candidate(widths[j], cost[j], s * Math.pow(4, -widths[j]) * Math.exp(rnd.nextGaussian() * 0.2)));
                ex.add(new Expert(l, e, u, 3L * 768 * 2048, c));
            }
        }
        long weights = 6144L * 3 * 768 * 2048;
        long budget = BitAllocation.budgetForAverageBits(3.5 + 0.125 + 0.01, weights); // 3.5 bits + the g128 BF16 scales
        long t0 = System.nanoTime();
        Result r = BitAllocation.allocate(new Request(ex, budget, Granularity.EXPERT, null));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(r.solution().provenOptimal(), r.solution().method() + ", gap " + r.solution().relativeGap());
        assertTrue(r.costBytes() <= budget);
        assertTrue(r.averageBits() > 3.6 && r.averageBits() <= 3.635, "average stored bits " + r.averageBits());
        System.out.printf("bit allocation, 6144 experts × 6 widths: %s, %.2f s%n", r.solution().method(), seconds);
    }
}
