package org.routecal.quant.alloc;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.routecal.RoutecalException;
import org.routecal.quant.ct.CtCodec;
import org.routecal.quant.scheme.QuantScheme;

/**
 * Per-expert bit allocation from routing: under a storage budget, give each expert the width w that minimizes
 * Σ_e usage(e) · layerWeight(layer(e)) · sensitivity(e, w), as an explicit multiple-choice knapsack
 * ({@link MultipleChoiceKnapsack}: exact DP with an LP lower bound, optimality proven or the gap reported).
 *
 * <p>Costs are the bytes the compressed-tensors checkpoint stores for the expert at that width, scales, zero points
 * and g_idx included ({@link #costBytes}), so "average 3.5 bits" counts the overhead honestly. Sensitivity is the
 * expert's measured output error at that width ({@link ExpertSensitivity}) normalized per calibration token, so that
 * usage (the routing share on the target corpus) is what weighs it; if the caller's sensitivity is a sum over the
 * expert's own routed tokens, it already contains its usage and {@code usage} should be 1.
 *
 * <p>Granularity {@link Granularity#LAYER} gives all experts of a layer one width (the form vLLM can serve: its
 * fused-MoE kernels take one scheme per layer); {@link Granularity#EXPERT} lets every expert differ.
 */
public final class BitAllocation {
    private BitAllocation() {}

    public enum Granularity { EXPERT, LAYER }

    /**
     * One candidate width of an expert.
     *
     * @param bits        the width
     * @param costBytes   stored bytes of the expert's modules at this width
     * @param sensitivity measured output error at this width (per calibration token)
     */
    public record Candidate(int bits, long costBytes, double sensitivity) {}

    /**
     * @param layer      decoder layer
     * @param expert     expert index in the layer
     * @param usage      routing share (or count) of the expert on the target corpus
     * @param weights    parameter count of its quantized modules (for bits per weight in the report)
     * @param candidates its widths, each once
     */
    public record Expert(int layer, int expert, double usage, long weights, List<Candidate> candidates) {
        public Expert {
            candidates = List.copyOf(candidates);
            if (candidates.isEmpty()) throw new IllegalArgumentException("expert " + layer + "/" + expert + " has no candidate widths");
            if (!(usage >= 0)) throw new IllegalArgumentException("expert " + layer + "/" + expert + " has usage " + usage);
        }

        Candidate at(int bits) {
            for (Candidate c : candidates) if (c.bits() == bits) return c;
            return null;
        }
    }

    /**
     * @param experts     every expert to allocate
     * @param budgetBytes the storage budget of all their modules together
     * @param granularity per expert, or one width per layer
     * @param layerWeight per-layer multiplier of the objective (the layer term), or null for 1 everywhere
     */
    public record Request(List<Expert> experts, long budgetBytes, Granularity granularity, Map<Integer, Double> layerWeight) {
        public Request {
            experts = List.copyOf(experts);
            layerWeight = layerWeight == null ? Map.of() : Map.copyOf(layerWeight);
        }

        double weightOf(Expert e) {
            return e.usage() * layerWeight.getOrDefault(e.layer(), 1.0);
        }
    }

    /** An expert and its width. */
    public record Assignment(Expert expert, Candidate chosen, double objectiveWeight) {
        public double objective() {
            return objectiveWeight * chosen.sensitivity();
        }
    }

    /** Every expert at one width: its cost and objective, for the comparison at equal size. */
    public record Uniform(int bits, long costBytes, double objective, boolean fitsBudget) {}

    public record Result(Request request, List<Assignment> assignments, MultipleChoiceKnapsack.Solution solution, List<Uniform> uniform) {
        public long costBytes() {
            return solution.cost();
        }

        /** Average stored bits per weight, overhead included. */
        public double averageBits() {
            long w = 0;
            for (Assignment a : assignments) w += a.expert().weights();
            return w == 0 ? Double.NaN : 8.0 * costBytes() / w;
        }

        /** True when experts of one layer got different widths (vLLM cannot serve that, see VllmSupport). */
        public boolean widthsDifferWithinLayer() {
            Map<Integer, Integer> first = new TreeMap<>();
            for (Assignment a : assignments) {
                Integer b = first.putIfAbsent(a.expert().layer(), a.chosen().bits());
                if (b != null && b != a.chosen().bits()) return true;
            }
            return false;
        }

        /** Width of every expert, keyed "layer/expert". */
        public Map<String, Integer> widths() {
            Map<String, Integer> out = new LinkedHashMap<>();
            for (Assignment a : assignments) out.put(a.expert().layer() + "/" + a.expert().expert(), a.chosen().bits());
            return out;
        }
    }

    /** The budget for an average of {@code bits} stored bits per weight over {@code weights} parameters. */
    public static long budgetForAverageBits(double bits, long weights) {
        if (!(bits > 0)) throw new IllegalArgumentException("average bits must be > 0, got " + bits);
        return (long) Math.floor(bits * weights / 8);
    }

    /** Stored bytes of an expert's modules ([rows, cols] each) under one scheme. */
    public static long costBytes(QuantScheme scheme, List<int[]> shapes, boolean gIdx) {
        long b = 0;
        for (int[] s : shapes) b += CtCodec.storedBytes(scheme, s[0], s[1], gIdx);
        return b;
    }

    public static Result allocate(Request r) {
        return allocate(r, MultipleChoiceKnapsack.DEFAULT_MAX_CELLS);
    }

    public static Result allocate(Request r, long maxCells) {
        if (r.experts().isEmpty()) throw new RoutecalException("bit allocation: no experts");
        List<List<Expert>> groups = new ArrayList<>();
        if (r.granularity() == Granularity.EXPERT) {
            for (Expert e : r.experts()) groups.add(List.of(e));
        } else {
            Map<Integer, List<Expert>> byLayer = new TreeMap<>();
            for (Expert e : r.experts()) byLayer.computeIfAbsent(e.layer(), k -> new ArrayList<>()).add(e);
            groups.addAll(byLayer.values());
        }
        List<MultipleChoiceKnapsack.Item> items = new ArrayList<>();
        List<int[]> widthsOf = new ArrayList<>();
        for (List<Expert> g : groups) {
            // a group's options: the widths every member can take
            TreeSet<Integer> common = null;
            for (Expert e : g) {
                TreeSet<Integer> b = new TreeSet<>();
                for (Candidate c : e.candidates()) b.add(c.bits());
                if (common == null) common = b; else common.retainAll(b);
            }
            if (common.isEmpty()) {
                throw new RoutecalException("bit allocation: the experts of layer " + g.get(0).layer() + " share no candidate width");
            }
            int[] widths = common.stream().mapToInt(Integer::intValue).toArray();
            long[] cost = new long[widths.length];
            double[] value = new double[widths.length];
            for (int j = 0; j < widths.length; j++) {
                for (Expert e : g) {
                    Candidate c = e.at(widths[j]);
                    if (!(c.sensitivity() >= 0) || !Double.isFinite(c.sensitivity())) {
                        throw new RoutecalException("bit allocation: expert " + e.layer() + "/" + e.expert() + " has sensitivity "
                                + c.sensitivity() + " at " + c.bits() + " bits");
                    }
                    cost[j] += c.costBytes();
                    value[j] += r.weightOf(e) * c.sensitivity();
                }
            }
            items.add(new MultipleChoiceKnapsack.Item(cost, value));
            widthsOf.add(widths);
        }
        MultipleChoiceKnapsack.Solution s = MultipleChoiceKnapsack.solve(items, r.budgetBytes(), maxCells);
        List<Assignment> out = new ArrayList<>();
        for (int gi = 0; gi < groups.size(); gi++) {
            int bits = widthsOf.get(gi)[s.choice()[gi]];
            for (Expert e : groups.get(gi)) out.add(new Assignment(e, e.at(bits), r.weightOf(e)));
        }
        return new Result(r, List.copyOf(out), s, uniform(r));
    }

    private static List<Uniform> uniform(Request r) {
        TreeSet<Integer> all = new TreeSet<>();
        for (Expert e : r.experts()) for (Candidate c : e.candidates()) all.add(c.bits());
        List<Uniform> out = new ArrayList<>();
        for (int b : all) {
            long cost = 0;
            double obj = 0;
            boolean everyone = true;
            for (Expert e : r.experts()) {
                Candidate c = e.at(b);
                if (c == null) {
                    everyone = false;
                    break;
                }
                cost += c.costBytes();
                obj += r.weightOf(e) * c.sensitivity();
            }
            if (everyone) out.add(new Uniform(b, cost, obj, cost <= r.budgetBytes()));
        }
        return out;
    }
}
