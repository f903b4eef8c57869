package org.routecal.quant.alloc;

import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.routecal.quant.scheme.QuantSchemes;

/**
 * What the quantize stage's per-expert bit allocation is asked for.
 *
 * @param averageBits  the budget: stored bits per routed-expert weight on average, scales and zero points included
 *                     (W3 at group size 128 with bf16 scales costs 3.125)
 * @param widths       candidate integer widths, ascending, each once
 * @param granularity  one width per expert, or per layer (what vLLM can serve)
 * @param usageRun     a route run directory whose expert_stats.parquet gives each expert's usage; null: the
 *                     calibration corpus's own routing
 * @param uniformUsage every expert weighs the same, whatever its routing: a sensitivity-only allocation, the
 *                     routing-blind comparison for what usage adds (not with usageRun)
 */
public record AllocationOptions(double averageBits, List<Integer> widths, BitAllocation.Granularity granularity, Path usageRun,
                                boolean uniformUsage) {
    /** Usage from routing (the calibration corpus's, or usageRun's). */
    public AllocationOptions(double averageBits, List<Integer> widths, BitAllocation.Granularity granularity, Path usageRun) {
        this(averageBits, widths, granularity, usageRun, false);
    }

    public AllocationOptions {
        if (uniformUsage && usageRun != null) throw new IllegalArgumentException("--allocation-usage uniform ignores routing: leave out --usage-run");
        if (!(averageBits > 0) || !Double.isFinite(averageBits)) throw new IllegalArgumentException("--bits-budget must be a positive number of bits, got " + averageBits);
        if (widths == null || widths.isEmpty()) throw new IllegalArgumentException("--bits needs at least one candidate width");
        TreeSet<Integer> sorted = new TreeSet<>();
        for (int b : widths) {
            if (b < QuantSchemes.MIN_INT_BITS || b > QuantSchemes.MAX_INT_BITS) {
                throw new IllegalArgumentException("--bits: width " + b + " is outside " + QuantSchemes.MIN_INT_BITS + ".." + QuantSchemes.MAX_INT_BITS);
            }
            if (!sorted.add(b)) throw new IllegalArgumentException("--bits: width " + b + " is listed twice");
        }
        if (sorted.size() < 2) throw new IllegalArgumentException("--bits needs at least two candidate widths to allocate between, got " + sorted);
        widths = List.copyOf(sorted);
        if (granularity == null) granularity = BitAllocation.Granularity.LAYER;
    }
}
