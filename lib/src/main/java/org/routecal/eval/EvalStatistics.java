package org.routecal.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.RoutecalException;
import org.routecal.eval.Bootstrap.Interval;

/**
 * Confidence intervals for an evaluation: pure math over per-sample rows (one row per model and held-out sample), no
 * I/O. The resampling unit is the held-out sample ({@link Bootstrap}, stratified by domain); every model is measured
 * on the same resamples, so differences between two checkpoints are paired.
 *
 * <p>Definitions (the labels every output uses):
 * <ul>
 *   <li><b>domain NLL, token-weighted</b>: Σ tokens·nll / Σ tokens over the domain's samples (every scored token
 *       counts once; what perplexity reports); <b>domain NLL, per-sample mean</b>: the plain mean of the samples'
 *       mean NLL (every sample counts once; what papers and lm-eval report);</li>
 *   <li><b>ΔNLL</b> of a sample: its mean NLL under the quantized model minus under the original (same tokens);
 *       domain ΔNLL and KL are token-weighted;</li>
 *   <li><b>mean</b>: the mean over domains of the domain values (each domain weighs the same, however many tokens it
 *       has); <b>worst domain</b>: the largest domain value.</li>
 * </ul>
 */
public final class EvalStatistics {
    private EvalStatistics() {}

    /**
     * @param resamples  bootstrap resamples (1000 by default)
     * @param seed       resampling seed
     * @param confidence interval coverage (0.95)
     * @param baseline   the quantized model every other one is compared with (paired); null: the first quantized one
     */
    public record Options(int resamples, long seed, double confidence, String baseline) {
        public static Options defaults() { return new Options(1000, 0, 0.95, null); }
    }

    /** One sample under one model: {@code nll} is the sample's mean NLL over its {@code tokens} scored positions. */
    public record SampleRow(String model, String sampleId, String domain, int tokens, double nll, Double kl) {}

    public record DomainStats(String domain, int samples, long tokens, double nllTokenWeighted, double nllPerSampleMean,
                              Interval deltaNll, Interval kl) {}

    /** Whole-evaluation statistics of one model (the delta and KL fields are null for the original). */
    public record ModelStats(String model, Interval meanNll, Interval meanDeltaNll, Interval worstDeltaNll, String worstDeltaNllDomain,
                             Interval meanKl, Interval worstKl, String worstKlDomain, List<DomainStats> domains) {}

    /** Paired differences {@code model − baseline} of the headline statistics (negative: {@code model} is better). */
    public record Comparison(String model, String baseline, Interval meanDeltaNll, Interval worstDeltaNll, Interval meanKl,
                             Interval worstKl) {}

    /** The statistics and the per-sample rows they were computed from. */
    public record Report(Options options, List<ModelStats> models, List<Comparison> comparisons, List<SampleRow> rows) {}

    /** The name every row of the unquantized reference carries. */
    public static final String ORIGINAL = "original";

    /**
     * Statistics of every model in {@code rows}. The original's rows fix the samples (order, domain, tokens); every
     * other model must have a row for each of them.
     */
    public static Report compute(List<SampleRow> rows, Options o) {
        List<SampleRow> base = rows.stream().filter(r -> r.model().equals(ORIGINAL)).toList();
        if (base.isEmpty()) throw new RoutecalException("evaluation statistics: no rows of the original model");
        int n = base.size();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            if (index.put(base.get(i).sampleId(), i) != null) throw new RoutecalException("evaluation statistics: sample id " + base.get(i).sampleId() + " repeats");
        }
        Samples s = new Samples(base);
        Map<String, double[][]> perModel = new LinkedHashMap<>(); // model → {nll[], kl[]}
        for (SampleRow r : rows) {
            if (r.model().equals(ORIGINAL)) continue;
            Integer i = index.get(r.sampleId());
            if (i == null) throw new RoutecalException("evaluation statistics: model " + r.model() + " has sample " + r.sampleId() + " the original lacks");
            double[][] v = perModel.computeIfAbsent(r.model(), k -> {
                double[][] a = new double[2][n];
                java.util.Arrays.fill(a[0], Double.NaN);
                return a;
            });
            if (!Double.isNaN(v[0][i])) {
                throw new RoutecalException("evaluation statistics: model " + r.model() + " has sample " + r.sampleId() + " twice (two checkpoints with one name?)");
            }
            v[0][i] = r.nll();
            v[1][i] = r.kl() == null ? 0 : r.kl();
        }
        for (Map.Entry<String, double[][]> e : perModel.entrySet()) {
            for (int i = 0; i < n; i++) {
                if (Double.isNaN(e.getValue()[0][i])) throw new RoutecalException("evaluation statistics: model " + e.getKey() + " lacks sample " + base.get(i).sampleId());
            }
        }
        Bootstrap boot = new Bootstrap(s.domainOf, o.resamples(), o.seed(), o.confidence());
        List<ModelStats> models = new ArrayList<>();
        models.add(s.stats(boot, ORIGINAL, s.nll, null, null));
        Map<String, double[]> delta = new LinkedHashMap<>();
        for (Map.Entry<String, double[][]> e : perModel.entrySet()) {
            double[] d = new double[n];
            for (int i = 0; i < n; i++) d[i] = e.getValue()[0][i] - s.nll[i];
            delta.put(e.getKey(), d);
            models.add(s.stats(boot, e.getKey(), e.getValue()[0], d, e.getValue()[1]));
        }
        List<Comparison> comparisons = new ArrayList<>();
        String baseline = o.baseline() != null ? o.baseline() : perModel.keySet().stream().findFirst().orElse(null);
        if (baseline != null && perModel.size() > 1) {
            if (!perModel.containsKey(baseline)) throw new RoutecalException("--baseline " + baseline + " is not an evaluated model; models: " + perModel.keySet());
            double[] bd = delta.get(baseline), bk = perModel.get(baseline)[1];
            for (String m : perModel.keySet()) {
                if (m.equals(baseline)) continue;
                double[] md = delta.get(m), mk = perModel.get(m)[1];
                comparisons.add(new Comparison(m, baseline,
                        boot.difference(w -> s.mean(md, w), w -> s.mean(bd, w)),
                        boot.difference(w -> s.worst(md, w), w -> s.worst(bd, w)),
                        boot.difference(w -> s.mean(mk, w), w -> s.mean(bk, w)),
                        boot.difference(w -> s.worst(mk, w), w -> s.worst(bk, w))));
            }
        }
        return new Report(o, List.copyOf(models), List.copyOf(comparisons), List.copyOf(rows));
    }

    /** The samples (from the original's rows): domains, token counts, and the weighted domain means over them. */
    private static final class Samples {
        final List<String> domainOf = new ArrayList<>();
        final List<String> domains = new ArrayList<>();
        final int[][] members; // [domain][k] → sample index
        final double[] tokens, nll;

        Samples(List<SampleRow> base) {
            int n = base.size();
            tokens = new double[n];
            nll = new double[n];
            Map<String, List<Integer>> m = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                SampleRow r = base.get(i);
                domainOf.add(r.domain());
                tokens[i] = r.tokens();
                nll[i] = r.nll();
                m.computeIfAbsent(r.domain(), k -> new ArrayList<>()).add(i);
            }
            domains.addAll(m.keySet());
            members = m.values().stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
        }

        /** Σ w·tokens·x / Σ w·tokens over domain d (NaN without tokens). */
        double domainTokenMean(int d, double[] x, double[] w) {
            double num = 0, den = 0;
            for (int i : members[d]) {
                num += w[i] * tokens[i] * x[i];
                den += w[i] * tokens[i];
            }
            return den == 0 ? Double.NaN : num / den;
        }

        double domainSampleMean(int d, double[] x, double[] w) {
            double num = 0, den = 0;
            for (int i : members[d]) {
                num += w[i] * x[i];
                den += w[i];
            }
            return den == 0 ? Double.NaN : num / den;
        }

        /** Mean over domains of the token-weighted domain means. */
        double mean(double[] x, double[] w) {
            double s = 0;
            for (int d = 0; d < members.length; d++) s += domainTokenMean(d, x, w);
            return s / members.length;
        }

        /** The largest token-weighted domain mean. */
        double worst(double[] x, double[] w) {
            double m = Double.NEGATIVE_INFINITY;
            for (int d = 0; d < members.length; d++) m = Math.max(m, domainTokenMean(d, x, w));
            return m;
        }

        String worstDomain(double[] x) {
            double[] ones = ones();
            int best = 0;
            for (int d = 1; d < members.length; d++) if (domainTokenMean(d, x, ones) > domainTokenMean(best, x, ones)) best = d;
            return domains.get(best);
        }

        double[] ones() {
            double[] o = new double[tokens.length];
            java.util.Arrays.fill(o, 1);
            return o;
        }

        ModelStats stats(Bootstrap boot, String model, double[] modelNll, double[] delta, double[] kl) {
            double[] ones = ones();
            List<DomainStats> ds = new ArrayList<>();
            for (int d = 0; d < members.length; d++) {
                final int dd = d;
                long t = 0;
                for (int i : members[d]) t += (long) tokens[i];
                ds.add(new DomainStats(domains.get(d), members[d].length, t, domainTokenMean(d, modelNll, ones), domainSampleMean(d, modelNll, ones),
                        delta == null ? null : boot.interval(w -> domainTokenMean(dd, delta, w)),
                        kl == null ? null : boot.interval(w -> domainTokenMean(dd, kl, w))));
            }
            Interval meanNll = boot.interval(w -> mean(modelNll, w));
            if (delta == null) return new ModelStats(model, meanNll, null, null, null, null, null, null, List.copyOf(ds));
            return new ModelStats(model, meanNll, boot.interval(w -> mean(delta, w)), boot.interval(w -> worst(delta, w)), worstDomain(delta),
                    boot.interval(w -> mean(kl, w)), boot.interval(w -> worst(kl, w)), worstDomain(kl), List.copyOf(ds));
        }
    }
}
