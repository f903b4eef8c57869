package org.routecal.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.routecal.eval.Bootstrap.Interval;
import org.routecal.eval.EvalStatistics;
import org.routecal.eval.EvalStatistics.SampleRow;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The experiment's table: calibration sets × MoE modes × schemes, each cell with bootstrap intervals over the held-out
 * samples and the paired difference against the baseline set. Pure aggregation of per-sample evaluation rows, no I/O.
 *
 * <p>A set made with several calibration seeds enters as one model whose per-sample NLL and KL are the means over its
 * seeds' checkpoints: the interval then covers the held-out sampling, and the seed-to-seed spread is shown beside it
 * (each seed's mean ΔNLL), since three seeds are too few to resample.
 */
public final class ExperimentTable {
    /** One quantized checkpoint of the experiment. {@code seed} is null for the original set (made once). */
    public record Run(String set, Long seed, String mode, String scheme, String checkpoint) {}

    /** What a calibration set looks like to the router: tokens, smallest slot count, mean layer entropy, usage objective. */
    public record Coverage(long tokens, long minPicks, double meanEntropy, double usageError) {}

    /** One table cell row. {@code vsBaseline} is null for the baseline set. */
    public record Row(String set, String mode, String scheme, int seeds, double tokens, double minPicks, double meanEntropy,
                      double usageError, EvalStatistics.ModelStats stats, List<Double> seedMeanDeltaNll, EvalStatistics.Comparison vsBaseline) {}

    private final List<Row> rows;
    private final String baseline;
    private final EvalStatistics.Options options;

    private ExperimentTable(List<Row> rows, String baseline, EvalStatistics.Options options) {
        this.rows = rows;
        this.baseline = baseline;
        this.options = options;
    }

    public List<Row> rows() { return rows; }

    /**
     * @param evalRows  per-sample rows of the original and every checkpoint (one evaluation pass)
     * @param coverage  per set and seed ("set/seed", "original/-"), the calibration set's coverage
     * @param options   bootstrap settings; its baseline is ignored ({@code baseline} set is used per group)
     */
    public static ExperimentTable build(List<Run> runs, List<SampleRow> evalRows, Map<String, Coverage> coverage,
                                        EvalStatistics.Options options, String baseline) {
        List<SampleRow> original = evalRows.stream().filter(r -> r.model().equals(EvalStatistics.ORIGINAL)).toList();
        Map<String, Map<String, SampleRow>> byCheckpoint = new HashMap<>();
        for (SampleRow r : evalRows) byCheckpoint.computeIfAbsent(r.model(), k -> new HashMap<>()).put(r.sampleId(), r);
        Map<String, List<Run>> groups = new LinkedHashMap<>();
        for (Run r : runs) groups.computeIfAbsent(r.mode() + "\0" + r.scheme(), k -> new ArrayList<>()).add(r);
        List<Row> out = new ArrayList<>();
        for (List<Run> group : groups.values()) {
            Map<String, List<Run>> sets = new LinkedHashMap<>();
            for (Run r : group) sets.computeIfAbsent(r.set(), k -> new ArrayList<>()).add(r);
            List<SampleRow> rows = new ArrayList<>(original);
            Map<String, List<Double>> seedMeans = new LinkedHashMap<>();
            for (Map.Entry<String, List<Run>> e : sets.entrySet()) {
                List<Map<String, SampleRow>> seeds = e.getValue().stream().map(r -> byCheckpoint.get(r.checkpoint())).toList();
                List<Double> means = new ArrayList<>();
                for (Map<String, SampleRow> seed : seeds) means.add(meanDelta(original, seed));
                seedMeans.put(e.getKey(), means);
                for (SampleRow o : original) {
                    double nll = 0, kl = 0;
                    for (Map<String, SampleRow> seed : seeds) {
                        SampleRow q = seed.get(o.sampleId());
                        nll += q.nll();
                        kl += q.kl() == null ? 0 : q.kl();
                    }
                    rows.add(new SampleRow(model(e.getKey()), o.sampleId(), o.domain(), o.tokens(), nll / seeds.size(), kl / seeds.size()));
                }
            }
            String base = sets.containsKey(baseline) ? model(baseline) : null;
            EvalStatistics.Report rep = EvalStatistics.compute(rows, new EvalStatistics.Options(options.resamples(), options.seed(),
                    options.confidence(), base));
            Run first = group.get(0);
            for (Map.Entry<String, List<Run>> e : sets.entrySet()) {
                String set = e.getKey();
                EvalStatistics.ModelStats ms = rep.models().stream().filter(m -> m.model().equals(model(set))).findFirst().orElseThrow();
                EvalStatistics.Comparison c = rep.comparisons().stream().filter(x -> x.model().equals(model(set))).findFirst().orElse(null);
                double tokens = 0, minPicks = 0, entropy = 0, usage = 0;
                for (Run r : e.getValue()) {
                    Coverage cv = coverage.get(key(r.set(), r.seed()));
                    tokens += cv.tokens();
                    minPicks += cv.minPicks();
                    entropy += cv.meanEntropy();
                    usage += cv.usageError();
                }
                int n = e.getValue().size();
                out.add(new Row(set, first.mode(), first.scheme(), n, tokens / n, minPicks / n, entropy / n, usage / n, ms, seedMeans.get(set), c));
            }
        }
        return new ExperimentTable(List.copyOf(out), baseline, options);
    }

    /** The statistics' model name of a set's seed-averaged rows (a set may be called "original", as the reference model is). */
    private static String model(String set) { return "set " + set; }

    /** The coverage map key of a set made with {@code seed} (null: the original, made once). */
    public static String key(String set, Long seed) { return set + "/" + (seed == null ? "-" : seed); }

    /** Mean over domains of the token-weighted domain ΔNLL of one checkpoint (a seed's point estimate). */
    private static double meanDelta(List<SampleRow> original, Map<String, SampleRow> q) {
        Map<String, double[]> d = new LinkedHashMap<>();
        for (SampleRow o : original) {
            double[] a = d.computeIfAbsent(o.domain(), k -> new double[2]);
            a[0] += o.tokens() * (q.get(o.sampleId()).nll() - o.nll());
            a[1] += o.tokens();
        }
        return d.values().stream().mapToDouble(a -> a[0] / a[1]).average().orElse(Double.NaN);
    }

    /** Mean over the (mode, scheme) groups of each set's mean ΔNLL, best first. */
    public Map<String, Double> ranking() {
        Map<String, double[]> acc = new LinkedHashMap<>();
        for (Row r : rows) {
            double[] a = acc.computeIfAbsent(r.set(), k -> new double[2]);
            a[0] += r.stats().meanDeltaNll().estimate();
            a[1]++;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        acc.entrySet().stream().sorted((x, y) -> Double.compare(x.getValue()[0] / x.getValue()[1], y.getValue()[0] / y.getValue()[1]))
                .forEach(e -> out.put(e.getKey(), e.getValue()[0] / e.getValue()[1]));
        return out;
    }

    /** "better" / "worse" (the paired interval excludes zero) or "tie", for a difference model − baseline (lower is better). */
    static String verdict(Interval diff) {
        return diff.upper() < 0 ? "better" : diff.lower() > 0 ? "worse" : "tie";
    }

    public ObjectNode toJson(ObjectMapper json) {
        ObjectNode root = json.createObjectNode();
        root.put("baseline", baseline);
        root.put("resamples", options.resamples());
        root.put("confidence", options.confidence());
        ArrayNode rs = root.putArray("rows");
        for (Row r : rows) {
            ObjectNode o = rs.addObject();
            o.put("set", r.set()).put("mode", r.mode()).put("scheme", r.scheme()).put("seeds", r.seeds()).put("calibration_tokens", r.tokens())
                    .put("min_picks_per_expert", r.minPicks()).put("mean_layer_entropy", r.meanEntropy()).put("usage_error", r.usageError());
            interval(o, "mean_delta_nll", r.stats().meanDeltaNll());
            interval(o, "worst_domain_delta_nll", r.stats().worstDeltaNll());
            o.put("worst_domain_delta_nll_domain", r.stats().worstDeltaNllDomain());
            interval(o, "mean_kl", r.stats().meanKl());
            interval(o, "worst_domain_kl", r.stats().worstKl());
            ArrayNode s = o.putArray("seed_mean_delta_nll");
            r.seedMeanDeltaNll().forEach(s::add);
            ObjectNode dom = o.putObject("domain_delta_nll");
            for (EvalStatistics.DomainStats d : r.stats().domains()) dom.put(d.domain(), d.deltaNll().estimate());
            if (r.vsBaseline() != null) {
                ObjectNode c = o.putObject("minus_baseline");
                interval(c, "mean_delta_nll", r.vsBaseline().meanDeltaNll());
                interval(c, "worst_domain_delta_nll", r.vsBaseline().worstDeltaNll());
                interval(c, "mean_kl", r.vsBaseline().meanKl());
                interval(c, "worst_domain_kl", r.vsBaseline().worstKl());
                c.put("verdict_mean_delta_nll", verdict(r.vsBaseline().meanDeltaNll()));
                c.put("verdict_worst_domain_delta_nll", verdict(r.vsBaseline().worstDeltaNll()));
            }
        }
        ObjectNode rank = root.putObject("ranking_mean_delta_nll");
        ranking().forEach(rank::put);
        return root;
    }

    private static void interval(ObjectNode o, String key, Interval i) {
        o.putObject(key).put("estimate", i.estimate()).put("lower", i.lower()).put("upper", i.upper());
    }

    /**
     * The table for {@code experiment.html} (rendered and escaped by the report package); a paired difference whose
     * interval excludes zero is starred.
     */
    public Table toTable() {
        String vs = " − " + baseline;
        Table t = Table.create("Sets × modes × schemes", StringColumn.create("mode"), StringColumn.create("scheme"), StringColumn.create("set"),
                IntColumn.create("seeds"), LongColumn.create("calibration tokens"), LongColumn.create("min picks/expert"),
                DoubleColumn.create("usage error J"), StringColumn.create("mean ΔNLL"), StringColumn.create("worst-domain ΔNLL"),
                StringColumn.create("mean KL"), StringColumn.create("per-seed mean ΔNLL"), StringColumn.create("mean ΔNLL" + vs),
                StringColumn.create("worst ΔNLL" + vs), StringColumn.create("mean KL" + vs));
        for (Row r : rows) {
            t.stringColumn("mode").append(r.mode());
            t.stringColumn("scheme").append(r.scheme());
            t.stringColumn("set").append(r.set());
            t.intColumn("seeds").append(r.seeds());
            t.longColumn("calibration tokens").append(Math.round(r.tokens()));
            t.longColumn("min picks/expert").append(Math.round(r.minPicks()));
            t.doubleColumn("usage error J").append(r.usageError());
            t.stringColumn("mean ΔNLL").append(r.stats().meanDeltaNll().format(4));
            t.stringColumn("worst-domain ΔNLL").append(r.stats().worstDeltaNll().format(4) + " " + r.stats().worstDeltaNllDomain());
            t.stringColumn("mean KL").append(r.stats().meanKl().format(4));
            t.stringColumn("per-seed mean ΔNLL").append(seeds(r));
            t.stringColumn("mean ΔNLL" + vs).append(r.vsBaseline() == null ? "—" : star(r.vsBaseline().meanDeltaNll()));
            t.stringColumn("worst ΔNLL" + vs).append(r.vsBaseline() == null ? "—" : star(r.vsBaseline().worstDeltaNll()));
            t.stringColumn("mean KL" + vs).append(r.vsBaseline() == null ? "—" : star(r.vsBaseline().meanKl()));
        }
        return t;
    }

    /** The README's markdown table. */
    public String toMarkdown() {
        StringBuilder sb = new StringBuilder("| mode | scheme | set | calib. tokens | min picks/expert | mean ΔNLL [95% CI] | worst-domain ΔNLL [95% CI] | "
                + "mean KL [95% CI] | per-seed mean ΔNLL | mean ΔNLL − " + baseline + " [95% CI] | worst ΔNLL − " + baseline + " [95% CI] |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.mode()).append(" | ").append(r.scheme()).append(" | ").append(r.set()).append(" | ").append(Math.round(r.tokens()))
                    .append(" | ").append(Math.round(r.minPicks())).append(" | ").append(r.stats().meanDeltaNll().format(4)).append(" | ")
                    .append(r.stats().worstDeltaNll().format(4)).append(" ").append(r.stats().worstDeltaNllDomain()).append(" | ")
                    .append(r.stats().meanKl().format(4)).append(" | ").append(seeds(r)).append(" | ")
                    .append(r.vsBaseline() == null ? "—" : star(r.vsBaseline().meanDeltaNll())).append(" | ")
                    .append(r.vsBaseline() == null ? "—" : star(r.vsBaseline().worstDeltaNll())).append(" |\n");
        }
        return sb.toString();
    }

    private static String seeds(Row r) {
        return r.seedMeanDeltaNll().stream().map(ExperimentTable::f4).reduce((a, b) -> a + ", " + b).orElse("");
    }

    private static String star(Interval i) { return i.format(4) + (i.excludesZero() ? " *" : ""); }

    private static String f4(double v) { return String.format(Locale.ROOT, "%.4f", v); }
}
