package org.routecal.eval;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Stratified percentile bootstrap over evaluation samples: pure math, seeded, no I/O.
 *
 * <p>Each resample draws, within every stratum (domain), as many samples as the stratum holds, uniformly with
 * replacement, so every resample has the domain sizes of the data (domains are fixed categories of the evaluation
 * set, not random draws). A resample is stored as per-sample multiplicities; a statistic is any function of those
 * weights ({@code weights[i]} = how often sample i was drawn; all ones gives the point estimate). Two statistics
 * evaluated on the same {@code Bootstrap} see the same resamples, which is what a paired comparison of two
 * checkpoints needs: the interval of {@code f(w) − g(w)} over resamples, not two separate intervals.
 *
 * <p>The interval is the percentile interval: the (1 − c)/2 and (1 + c)/2 quantiles of the resampled statistic, with
 * linear interpolation between order statistics (numpy's default {@code percentile} rule).
 */
public final class Bootstrap {
    /** A point estimate with its percentile interval. */
    public record Interval(double estimate, double lower, double upper) {
        /** True when the whole interval lies on one side of zero. */
        public boolean excludesZero() { return lower > 0 || upper < 0; }

        /** "0.01234 [0.01000, 0.01500]" with {@code digits} decimals. */
        public String format(int digits) {
            String f = "%." + digits + "f";
            return String.format(java.util.Locale.ROOT, f + " [" + f + ", " + f + "]", estimate, lower, upper);
        }

        @Override public String toString() { return format(5); }
    }

    private final int samples;
    private final double confidence;
    private final int[][] draws; // [resample][sample]: multiplicity of sample i in resample r

    /**
     * @param strata     stratum (domain) of every sample
     * @param resamples  number of bootstrap resamples (≥ 1)
     * @param seed       seed of the resampling
     * @param confidence interval coverage, in (0, 1), e.g. 0.95
     */
    public Bootstrap(List<String> strata, int resamples, long seed, double confidence) {
        if (resamples < 1) throw new IllegalArgumentException("bootstrap resamples must be >= 1, got " + resamples);
        if (!(confidence > 0 && confidence < 1)) throw new IllegalArgumentException("confidence must be in (0, 1), got " + confidence);
        this.samples = strata.size();
        this.confidence = confidence;
        Map<String, int[]> members = new LinkedHashMap<>();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        for (String s : strata) sizes.merge(s, 1, Integer::sum);
        Map<String, Integer> fill = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : sizes.entrySet()) members.put(e.getKey(), new int[e.getValue()]);
        for (int i = 0; i < samples; i++) {
            String s = strata.get(i);
            int k = fill.merge(s, 1, Integer::sum) - 1;
            members.get(s)[k] = i;
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        draws = new int[resamples][samples];
        for (int[] d : draws) {
            for (int[] m : members.values()) for (int k = 0; k < m.length; k++) d[m[rnd.nextInt(m.length)]]++;
        }
    }

    public int resamples() { return draws.length; }

    public int samples() { return samples; }

    public double confidence() { return confidence; }

    /** A statistic of the evaluation samples given their multiplicities (length = samples). */
    @FunctionalInterface
    public interface Statistic {
        double of(double[] weights);
    }

    /** The statistic on the data (all weights 1) and its percentile interval over the resamples. */
    public Interval interval(Statistic statistic) {
        double[] ones = new double[samples];
        Arrays.fill(ones, 1);
        double estimate = statistic.of(ones);
        double[] values = new double[draws.length];
        double[] w = new double[samples];
        int n = 0;
        for (int[] d : draws) {
            for (int i = 0; i < samples; i++) w[i] = d[i];
            double v = statistic.of(w);
            if (!Double.isNaN(v)) values[n++] = v; // a resample can leave a statistic undefined (e.g. no tokens): skip it
        }
        if (n == 0) return new Interval(estimate, Double.NaN, Double.NaN);
        double[] sorted = Arrays.copyOf(values, n);
        Arrays.sort(sorted);
        return new Interval(estimate, percentile(sorted, (1 - confidence) / 2), percentile(sorted, (1 + confidence) / 2));
    }

    /** The paired difference {@code a − b}: both statistics on the same resamples. */
    public Interval difference(Statistic a, Statistic b) {
        return interval(w -> a.of(w) - b.of(w));
    }

    /** Quantile {@code q} ∈ [0, 1] of ascending {@code sorted}, interpolating linearly between order statistics. */
    static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
