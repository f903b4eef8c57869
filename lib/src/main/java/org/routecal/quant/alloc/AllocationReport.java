package org.routecal.quant.alloc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.io.AtomicFiles;
import org.routecal.io.parquet.ParquetSchema;
import org.routecal.io.parquet.ParquetTableWriter;

/**
 * The written record of a bit allocation.
 *
 * <p>{@code bit_allocation.parquet} (format {@value #FORMAT}, version {@value #VERSION}), one row per expert:
 * layer, expert, usage, objective_weight (usage × layer term), bits (chosen), cost_bytes, bits_per_weight (stored bits,
 * overhead included, per parameter), sensitivity (at the chosen width), objective (weight × sensitivity),
 * candidate_bits and candidate_sensitivity (every width tried, in the same order). Key/value metadata: granularity,
 * budget_bytes, cost_bytes, average_bits, objective, lower_bound (the exact optimum when a DP over exact units ran),
 * lp_bound (the Lagrangian dual), gap, relative_gap, proven_optimal, method, widths_differ_within_layer.
 *
 * <p>{@code bit_allocation.json}: the same summary, the uniform-width comparison (cost and objective of every expert
 * at each width) and each expert's width.
 */
public final class AllocationReport {
    private AllocationReport() {}

    public static final String FORMAT = "routecal.bit-allocation";
    public static final int VERSION = 1;
    public static final ParquetSchema SCHEMA = ParquetSchema.builder("bit_allocation").int32("layer").int32("expert")
            .float64("usage").float64("objective_weight").int32("bits").int64("cost_bytes").float64("bits_per_weight")
            .float64("sensitivity").float64("objective").int32List("candidate_bits").floatList("candidate_sensitivity").build();

    /** The summary fields, shared by the Parquet metadata and the JSON file. */
    static Map<String, Object> summary(BitAllocation.Result r) {
        MultipleChoiceKnapsack.Solution s = r.solution();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("granularity", r.request().granularity().name().toLowerCase(java.util.Locale.ROOT));
        m.put("budget_bytes", r.request().budgetBytes());
        m.put("cost_bytes", r.costBytes());
        m.put("average_bits", Double.isNaN(r.averageBits()) ? null : r.averageBits()); // NaN is not JSON
        m.put("objective", s.objective());
        m.put("lower_bound", s.lowerBound());
        m.put("lp_bound", s.lpBound());
        m.put("gap", s.gap());
        m.put("relative_gap", s.relativeGap());
        m.put("proven_optimal", s.provenOptimal());
        m.put("method", s.method());
        m.put("widths_differ_within_layer", r.widthsDifferWithinLayer());
        return m;
    }

    public static void writeParquet(Path file, BitAllocation.Result r) {
        Map<String, String> meta = new LinkedHashMap<>();
        summary(r).forEach((k, v) -> meta.put(k, String.valueOf(v)));
        try (ParquetTableWriter w = ParquetTableWriter.create(file, SCHEMA, FORMAT, VERSION, meta)) {
            for (BitAllocation.Assignment a : r.assignments()) {
                BitAllocation.Expert e = a.expert();
                int[] bits = new int[e.candidates().size()];
                float[] sens = new float[bits.length];
                for (int i = 0; i < bits.length; i++) {
                    bits[i] = e.candidates().get(i).bits();
                    sens[i] = (float) e.candidates().get(i).sensitivity();
                }
                w.append(e.layer(), e.expert(), e.usage(), a.objectiveWeight(), a.chosen().bits(), a.chosen().costBytes(),
                        e.weights() == 0 ? Double.NaN : 8.0 * a.chosen().costBytes() / e.weights(), a.chosen().sensitivity(),
                        a.objective(), bits, sens);
            }
        }
    }

    public static void writeJson(Path file, BitAllocation.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("format_version", VERSION);
        m.putAll(summary(r));
        List<Map<String, Object>> uniform = new ArrayList<>();
        for (BitAllocation.Uniform u : r.uniform()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("bits", u.bits());
            x.put("cost_bytes", u.costBytes());
            x.put("objective", u.objective());
            x.put("fits_budget", u.fitsBudget());
            uniform.add(x);
        }
        m.put("uniform", uniform);
        List<Map<String, Object>> experts = new ArrayList<>();
        for (BitAllocation.Assignment a : r.assignments()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("layer", a.expert().layer());
            x.put("expert", a.expert().expert());
            x.put("bits", a.chosen().bits());
            experts.add(x);
        }
        m.put("experts", experts);
        AtomicFiles.writeJson(file, m);
    }
}
