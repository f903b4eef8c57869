package org.routecal.quant;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.routecal.RoutecalException;
import org.routecal.io.parquet.ParquetTableReader;
import org.routecal.model.Activations;
import org.routecal.model.ForwardTaps;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Progress;
import org.routecal.quant.alloc.AllocationOptions;
import org.routecal.quant.alloc.AllocationReport;
import org.routecal.quant.alloc.BitAllocation;
import org.routecal.quant.alloc.ExpertSensitivity;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.quant.gptq.GptqResult;
import org.routecal.quant.gptq.GptqSolver;
import org.routecal.quant.gptq.PreparedHessian;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantSchemes;
import org.routecal.route.ModelFingerprint;
import org.routecal.route.RouteRunDir;
import org.routecal.route.RouteStage;

/**
 * The per-expert bit allocation of a quantize run (--bits-budget): a measuring pass, then the exact knapsack.
 *
 * <p>The knapsack couples every layer (one budget for all experts), so the widths must be known before the
 * sequential quantize pass starts; the measuring pass therefore runs first, layer by layer over the calibration
 * batches, on the unquantized model's activations (each layer run in place on its original weights, AWQ-folded when
 * --awq is on, which computes the same function). In each MoE layer every routed expert's Hessians are built once, as
 * its calibration mode says, and every candidate width is solved against them ({@link LayerQuantizer#measure}); its
 * sensitivity at that width is the output error per calibration token. Usage is each expert's routing share in its
 * layer, from the calibration routing or from a route run (--usage-run); the objective is Σ usage · sensitivity and
 * the costs are the bytes compressed-tensors stores for the expert at each width ({@link BitAllocation}).
 */
final class ExpertAllocation {
    private final AllocationOptions options;
    private final BitAllocation.Result result;
    private final Map<String, QuantScheme> schemes;
    private final String usageSource;

    private ExpertAllocation(AllocationOptions options, BitAllocation.Result result, Map<String, QuantScheme> schemes, String usageSource) {
        this.options = options;
        this.result = result;
        this.schemes = schemes;
        this.usageSource = usageSource;
    }

    /**
     * One routed expert's measurement: its routed calibration tokens, parameter count and, per candidate width, stored
     * bytes and output error per calibration token.
     */
    record Measurement(int layer, int expert, int routed, long weights, List<BitAllocation.Candidate> candidates) {}

    /** tr((W − Q)·H·(W − Q)ᵀ) of one module quantized at {@code s}: from GPTQ's own loss, or directly after RTN. */
    static double outputError(String module, IntScheme s, float[] w, int cols, double[] h, PreparedHessian prepared, GptqArgs args) {
        int rows = w.length / cols;
        if (prepared != null) {
            GptqResult r = GptqSolver.solve(module, s, w, rows, cols, prepared, args, Float.NaN);
            if (!r.fallback()) return ExpertSensitivity.fromGptqLoss(r, w, h, rows, cols, args.dampeningFrac());
            return ExpertSensitivity.outputError(w, r.weight().dequantize(), h, rows, cols);
        }
        return ExpertSensitivity.outputError(w, Rtn.quantize(s, w, rows, cols, Float.NaN).dequantize(), h, rows, cols);
    }

    BitAllocation.Result result() {
        return result;
    }

    /** The scheme of every routed-expert module the allocation gives a width (module name → scheme). */
    Map<String, QuantScheme> schemes() {
        return schemes;
    }

    /**
     * Measures every routed expert at each candidate width and solves the allocation.
     *
     * @param batches     the calibration batches (embedded here again: the quantize pass embeds its own)
     * @param batchTokens tokens of each batch
     */
    static ExpertAllocation measure(MoeModel model, List<List<int[]>> batches, List<Integer> batchTokens, QuantScheme scheme,
                                    QuantizeOptions o, IgnoreRules rules, Progress progress, Runnable cancel) {
        AllocationOptions a = o.allocation();
        if (!(scheme instanceof IntScheme base)) {
            throw new RoutecalException("--bits-budget allocates integer widths: --scheme must be one of w2a16 … w8a16 (it sets the "
                    + "group size and symmetry of every width, and the width of the modules outside the routed experts), got " + o.scheme());
        }
        ModelConfig config = model.config();
        Map<Long, Double> runUsage = a.usageRun() == null ? null : usageFromRun(model, a.usageRun());
        List<Measurement> measured = new ArrayList<>();
        int tokens = batchTokens.stream().mapToInt(Integer::intValue).sum();
        List<Activations> acts = new ArrayList<>();
        try {
            for (List<int[]> b : batches) acts.add(model.embed(b, acts.size()));
            progress.start("measure expert sensitivity at " + a.widths() + " bits", config.layerCount());
            for (int layer = 0; layer < config.layerCount(); layer++) {
                cancel.run();
                model.weights().beginLayer();
                if (!config.isMoeLayer(layer)) {
                    for (Activations act : acts) model.layer(layer, act, ForwardTaps.NONE);
                } else {
                    LayerQuantizer lq = new LayerQuantizer(model, layer, base, o, rules, new ArrayList<>());
                    if (o.awq() != null) lq.smoothing(AwqLayer.smooth(model, layer, acts, batchTokens, lq, o, new ArrayList<>()));
                    try (LayerCalibration cal = new LayerCalibration(layer, model.backend(), Set.of(), batchTokens)) {
                        for (Activations act : acts) model.layer(layer, act, cal); // in place: the next layer sees these outputs
                        measured.addAll(lq.measure(cal, base, a.widths()));
                    }
                }
                model.weights().clearOverrides();
                progress.advance(1);
            }
        } finally {
            acts.forEach(Activations::close);
        }
        progress.finish();
        if (measured.isEmpty()) throw new RoutecalException("--bits-budget: no routed expert is quantized (every expert module is ignored)");
        List<BitAllocation.Expert> experts = new ArrayList<>();
        long weights = 0;
        int k = config.expertUsedCount();
        for (Measurement m : measured) {
            double usage;
            if (runUsage != null) {
                Double u = runUsage.get(key(m.layer(), m.expert()));
                if (u == null) throw new RoutecalException(a.usageRun() + ": expert_stats.parquet has no row for layer " + m.layer() + " expert " + m.expert());
                usage = u;
            } else if (a.uniformUsage()) {
                usage = 1.0 / config.expertCount(); // routing-blind: every expert of a layer weighs the same
            } else {
                usage = m.routed() / (double) ((long) tokens * k); // the expert's share of its layer's picks
            }
            experts.add(new BitAllocation.Expert(m.layer(), m.expert(), usage, m.weights(), m.candidates()));
            weights += m.weights();
        }
        long budget = BitAllocation.budgetForAverageBits(a.averageBits(), weights);
        requireFeasible(experts, budget, a, weights, base);
        BitAllocation.Result r = BitAllocation.allocate(new BitAllocation.Request(experts, budget, a.granularity(), null));
        Map<String, QuantScheme> schemes = new LinkedHashMap<>();
        Map<String, Integer> widths = r.widths();
        for (int layer = 0; layer < config.layerCount(); layer++) {
            for (LinearModules.Module m : LinearModules.ofLayer(config, layer)) {
                Integer bits = widths.get(m.layer() + "/" + m.expert());
                if (m.expert() < 0 || bits == null || rules.ignores(m.module())) continue;
                schemes.put(m.module(), new IntScheme(bits, base.symmetric(), base.groupSize(), base.scaleDtype()));
            }
        }
        return new ExpertAllocation(a, r, Map.copyOf(schemes), runUsage != null ? a.usageRun() + "/" + RouteRunDir.EXPERT_STATS
                : a.uniformUsage() ? "uniform (routing ignored)" : "calibration routing");
    }

    private static long key(int layer, int expert) {
        return ((long) layer << 32) | expert;
    }

    /** A budget below every expert's cheapest width is refused with what each width costs here. */
    private static void requireFeasible(List<BitAllocation.Expert> experts, long budget, AllocationOptions a, long weights, IntScheme base) {
        long cheapest = 0;
        for (BitAllocation.Expert e : experts) cheapest += e.candidates().stream().mapToLong(BitAllocation.Candidate::costBytes).min().orElse(0);
        if (cheapest <= budget) return;
        StringBuilder costs = new StringBuilder();
        for (int i = 0; i < a.widths().size(); i++) {
            long c = 0;
            for (BitAllocation.Expert e : experts) c += e.candidates().get(i).costBytes();
            costs.append(i == 0 ? "" : ", ").append(QuantSchemes.intId(a.widths().get(i)))
                    .append(String.format(Locale.ROOT, " %.3f", 8.0 * c / weights));
        }
        throw new RoutecalException(String.format(Locale.ROOT, "--bits-budget %.3f is below what the narrowest candidate width costs: stored bits "
                + "per expert weight, scales%s included (group size %s), are %s; raise the budget or add a narrower width to --bits",
                a.averageBits(), base.symmetric() ? "" : " and zero points", base.groupSize() == 0 ? "per channel" : base.groupSize(), costs));
    }

    /** Each expert's routing share in its layer from a route run's expert_stats.parquet; the run must be of this model. */
    static Map<Long, Double> usageFromRun(MoeModel model, Path run) {
        OutputDir.requireComplete(run, "route", "--usage-run");
        Path file = run.resolve(RouteRunDir.EXPERT_STATS);
        if (!Files.isRegularFile(file)) throw new RoutecalException(run + ": no " + RouteRunDir.EXPERT_STATS + " (not a finished `routecal route` run directory)");
        ParquetTableReader stats = ParquetTableReader.open(file).requireFormat(RouteRunDir.EXPERT_STATS_FORMAT, 1, RouteRunDir.EXPERT_STATS_VERSION);
        String theirs = stats.metadata().get("model_fingerprint");
        String ours = ModelFingerprint.of(model, RouteStage.geometry(model.config()));
        if (!ours.equals(theirs)) {
            throw new RoutecalException(file + " was routed through another model (fingerprint " + abbrev(theirs) + ", --model has " + abbrev(ours)
                    + "): its usage does not describe this model's experts");
        }
        int[] layer = stats.readIntColumn("layer"), expert = stats.readIntColumn("expert");
        long[] count = stats.readLongColumn("count");
        Map<Integer, Long> picks = new TreeMap<>();
        for (int i = 0; i < layer.length; i++) picks.merge(layer[i], count[i], Long::sum);
        Map<Long, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < layer.length; i++) {
            long p = picks.get(layer[i]);
            out.put(key(layer[i], expert[i]), p == 0 ? 0.0 : count[i] / (double) p);
        }
        return out;
    }

    private static String abbrev(String fp) {
        return fp == null ? "none" : fp.length() > 12 ? fp.substring(0, 12) : fp;
    }

    /** bit_allocation.parquet, bit_allocation.json and bit_allocation.html (table and charts). */
    void write(Path dir) {
        AllocationReport.writeParquet(dir.resolve("bit_allocation.parquet"), result);
        AllocationReport.writeJson(dir.resolve("bit_allocation.json"), result);
        AllocationReport.writeHtml(dir.resolve("bit_allocation.html"), result, List.of(summary(), "usage: " + usageSource));
    }

    /** One line for the CLI summary and the checkpoint's README. */
    String summary() {
        Map<Integer, Integer> byWidth = new TreeMap<>();
        for (BitAllocation.Assignment x : result.assignments()) byWidth.merge(x.chosen().bits(), 1, Integer::sum);
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "bit allocation (%s granularity, usage from %s): %.3f stored bits per "
                        + "expert weight for a budget of %.3f;", options.granularity().name().toLowerCase(Locale.ROOT), usageSource,
                result.averageBits(), options.averageBits()));
        byWidth.forEach((bits, n) -> b.append(' ').append(n).append(" experts at ").append(bits).append(" bits,"));
        b.setLength(b.length() - 1);
        b.append(String.format(Locale.ROOT, "; objective %.4g", result.solution().objective()));
        for (BitAllocation.Uniform u : result.uniform()) {
            b.append(String.format(Locale.ROOT, ", uniform %d bits %.4g (%.3f bits%s)", u.bits(), u.objective(),
                    8.0 * u.costBytes() / totalWeights(), u.fitsBudget() ? "" : ", over budget"));
        }
        b.append(result.solution().provenOptimal() ? "; proven optimal" : String.format(Locale.ROOT, "; within %.2g of optimal", result.solution().relativeGap()));
        return b.toString();
    }

    private long totalWeights() {
        long w = 0;
        for (BitAllocation.Assignment x : result.assignments()) w += x.expert().weights();
        return w;
    }

    /** The manifest's entry: the allocation's summary fields, where usage came from, and experts per width. */
    Map<String, Object> manifestSummary() {
        Map<String, Object> m = new LinkedHashMap<>(AllocationReport.summary(result));
        m.put("usage", usageSource);
        Map<String, Integer> byWidth = new TreeMap<>();
        for (BitAllocation.Assignment x : result.assignments()) byWidth.merge(String.valueOf(x.chosen().bits()), 1, Integer::sum);
        m.put("experts_per_width", byWidth);
        return m;
    }
}
