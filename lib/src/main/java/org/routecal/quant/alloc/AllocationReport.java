package org.routecal.quant.alloc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.io.AtomicFiles;
import org.routecal.io.parquet.ParquetSchema;
import org.routecal.io.parquet.ParquetTableWriter;
import org.routecal.report.Chart;
import org.routecal.report.HtmlReport;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

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
 *
 * <p>{@code bit_allocation.html}: the comparison with uniform widths, each expert's width as a layer × expert
 * heatmap, and the per-expert table (a self-contained page through the report package).
 */
public final class AllocationReport {
    private AllocationReport() {}

    public static final String FORMAT = "routecal.bit-allocation";
    public static final int VERSION = 1;
    public static final ParquetSchema SCHEMA = ParquetSchema.builder("bit_allocation").int32("layer").int32("expert")
            .float64("usage").float64("objective_weight").int32("bits").int64("cost_bytes").float64("bits_per_weight")
            .float64("sensitivity").float64("objective").int32List("candidate_bits").floatList("candidate_sensitivity").build();

    /** The summary fields, shared by the Parquet metadata, the JSON file and the quantize manifest. */
    public static Map<String, Object> summary(BitAllocation.Result r) {
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

    /** The page: {@code notes} (one paragraph each), the uniform comparison, the widths heatmap, the per-expert table. */
    public static void writeHtml(Path file, BitAllocation.Result r, List<String> notes) {
        HtmlReport page = HtmlReport.titled("routecal quantize: per-expert bit allocation");
        notes.forEach(page::text);
        page.section("Against uniform widths").table(comparison(r)).chart(comparisonChart(r));
        page.section("Width of every expert").chart(widthsChart(r)).table(table(r));
        page.write(file);
    }

    /** One row per expert: layer, expert, usage, bits, bits per weight, sensitivity at its width, objective. */
    public static Table table(BitAllocation.Result r) {
        IntColumn layer = IntColumn.create("layer"), expert = IntColumn.create("expert"), bits = IntColumn.create("bits");
        DoubleColumn usage = DoubleColumn.create("usage"), bpw = DoubleColumn.create("bits_per_weight"),
                sens = DoubleColumn.create("sensitivity"), obj = DoubleColumn.create("objective");
        for (BitAllocation.Assignment a : r.assignments()) {
            layer.append(a.expert().layer());
            expert.append(a.expert().expert());
            usage.append(a.expert().usage());
            bits.append(a.chosen().bits());
            bpw.append(a.expert().weights() == 0 ? Double.NaN : 8.0 * a.chosen().costBytes() / a.expert().weights());
            sens.append(a.chosen().sensitivity());
            obj.append(a.objective());
        }
        return Table.create("bit_allocation", layer, expert, usage, bits, bpw, sens, obj);
    }

    /** The allocation and every uniform width: stored bits per expert weight and objective (Σ usage · sensitivity). */
    public static Table comparison(BitAllocation.Result r) {
        StringColumn name = StringColumn.create("widths");
        DoubleColumn bits = DoubleColumn.create("bits_per_weight"), obj = DoubleColumn.create("objective");
        StringColumn fits = StringColumn.create("fits_budget");
        long weights = 0;
        for (BitAllocation.Assignment a : r.assignments()) weights += a.expert().weights();
        for (BitAllocation.Uniform u : r.uniform()) {
            name.append("uniform " + u.bits());
            bits.append(weights == 0 ? Double.NaN : 8.0 * u.costBytes() / weights);
            obj.append(u.objective());
            fits.append(u.fitsBudget() ? "yes" : "no");
        }
        name.append("allocated");
        bits.append(r.averageBits());
        obj.append(r.solution().objective());
        fits.append("yes");
        return Table.create("allocation_vs_uniform", name, bits, obj, fits);
    }

    /** Objective of the allocation and of each uniform width (lower is better). */
    public static Chart comparisonChart(BitAllocation.Result r) {
        Table t = comparison(r);
        return Chart.titled("Objective Σ usage · sensitivity (lower is better)").axes("widths", "objective")
                .bar("objective", t.stringColumn("widths").asList(), t.doubleColumn("objective").asDoubleArray());
    }

    /** Each expert's width: a heatmap over layers (rows) and experts (columns). */
    public static Chart widthsChart(BitAllocation.Result r) {
        java.util.TreeSet<Integer> layers = new java.util.TreeSet<>(), experts = new java.util.TreeSet<>();
        for (BitAllocation.Assignment a : r.assignments()) {
            layers.add(a.expert().layer());
            experts.add(a.expert().expert());
        }
        List<Integer> ls = List.copyOf(layers), es = List.copyOf(experts);
        double[][] z = new double[ls.size()][es.size()];
        for (double[] row : z) java.util.Arrays.fill(row, Double.NaN);
        for (BitAllocation.Assignment a : r.assignments()) z[ls.indexOf(a.expert().layer())][es.indexOf(a.expert().expert())] = a.chosen().bits();
        return Chart.titled("Bits per expert").axes("expert", "layer").heatmap(es, ls, z);
    }
}
