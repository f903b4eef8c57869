package org.routecal.route;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Balance metrics of a set of expert counts (one MoE layer, or all slots together). Pure math, no I/O.
 *
 * <p>Definitions (n = number of experts, c = counts, p = c / Σc):
 * <ul>
 *   <li>{@code cv} = population std(c) / mean(c) (ddof 0, as numpy's default {@code np.std});</li>
 *   <li>{@code entropyNorm}: {@link #normalizedEntropy}, the one definition of routecal;</li>
 *   <li>{@code gini} = Σᵢ (2i − n − 1) c₍ᵢ₎ / (n Σc) over counts sorted ascending, i = 1..n (0 = even, → 1 = one expert);</li>
 *   <li>{@code maxOverMean} = max(c) / mean(c); {@code shareStd} = population std(p);</li>
 *   <li>{@code coverage} = share of experts with c ≥ target; {@code deficit} = Σ max(0, target − c);
 *       {@code belowTarget} = number of experts with c &lt; target.</li>
 * </ul>
 * Metrics of an all-zero set are NaN (nothing to normalise by), except min/max/deficit/coverage.
 *
 * @param layer decoder-layer index, or -1 for the all-slots aggregate
 */
public record BalanceMetrics(int layer, int experts, long picks, double mean, double cv, double entropyNorm, double gini,
                             double maxOverMean, long min, long max, double shareStd, long target, double coverage,
                             long deficit, int belowTarget) {

    /** Metrics of one set of counts. */
    public static BalanceMetrics of(int layer, long[] counts, long target) {
        int n = counts.length;
        long sum = 0, min = Long.MAX_VALUE, max = Long.MIN_VALUE, deficit = 0;
        int covered = 0;
        for (long c : counts) {
            sum += c;
            min = Math.min(min, c);
            max = Math.max(max, c);
            deficit += Math.max(0, target - c);
            if (c >= target) covered++;
        }
        double mean = (double) sum / n;
        double var = 0;
        for (long c : counts) var += (c - mean) * (c - mean);
        double std = Math.sqrt(var / n);
        double entropyNorm = normalizedEntropy(counts);
        long[] sorted = counts.clone();
        Arrays.sort(sorted);
        double g = 0;
        for (int i = 0; i < n; i++) g += (2.0 * (i + 1) - n - 1) * sorted[i];
        double gini = sum == 0 ? Double.NaN : g / ((double) n * sum);
        return new BalanceMetrics(layer, n, sum, mean, sum == 0 ? Double.NaN : std / mean, entropyNorm, gini,
                sum == 0 ? Double.NaN : max / mean, min, max, sum == 0 ? Double.NaN : std / sum, target,
                (double) covered / n, deficit, n - covered);
    }

    /**
     * Normalised entropy of a count distribution, {@code −Σ p ln p / ln n} with {@code p = c / Σc} and 0 ln 0 = 0:
     * 1 when every one of the n experts got the same count, 0 when one got everything. Edge cases: one expert
     * ({@code n = 1}) is trivially even, 1.0; no picks at all ({@code Σc = 0}) has no distribution, NaN (written as
     * null / "NaN", never mistaken for "perfectly skewed").
     */
    public static double normalizedEntropy(long[] counts) {
        int n = counts.length;
        long sum = 0;
        for (long c : counts) sum += c;
        if (sum == 0) return Double.NaN;
        if (n == 1) return 1.0;
        double entropy = 0;
        for (long c : counts) {
            if (c > 0) {
                double p = (double) c / sum;
                entropy -= p * Math.log(p);
            }
        }
        return entropy / Math.log(n);
    }

    /** Metrics of every MoE layer, in layer order. */
    public static List<BalanceMetrics> perLayer(ExpertCounts counts, long target) {
        RoutingGeometry g = counts.geometry();
        List<BalanceMetrics> out = new ArrayList<>(g.layers());
        for (int l = 0; l < g.layers(); l++) out.add(of(g.layerIndex()[l], counts.layerCounts(l), target));
        return out;
    }

    /** Metrics over all slots of all layers together (layer = -1). */
    public static BalanceMetrics allSlots(ExpertCounts counts, long target) {
        return of(-1, counts.counts(), target);
    }

    /** Per-slot deficit {@code max(0, target − count)}. // [slots] */
    public static long[] deficits(long[] counts, long target) {
        long[] d = new long[counts.length];
        for (int i = 0; i < d.length; i++) d[i] = Math.max(0, target - counts[i]);
        return d;
    }
}
