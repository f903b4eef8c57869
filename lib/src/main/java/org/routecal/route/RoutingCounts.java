package org.routecal.route;

import org.routecal.RoutecalException;

/**
 * Top-k picks per (MoE layer, expert) slot of a text or a corpus, and how many tokens made them: the one routing
 * counter of routecal. The route stage counts a corpus with it ({@link ExpertCounts}, overall and per domain), the
 * synth stages count each candidate and the growing corpus with it, so "tokens an expert saw" means the same
 * everywhere. Each pick counts 1, unweighted, as the reference's step 3 counts {@code (layer, expert_id)} occurrences.
 * Mutable only through the {@code add} methods; the acceptance rule treats it as a value.
 */
public final class RoutingCounts {
    private final int layers;
    private final int experts;
    private final long[] counts; // [layers, experts] row-major: picks of that expert in that layer
    private long tokens;

    public RoutingCounts(int layers, int experts) {
        this.layers = layers;
        this.experts = experts;
        this.counts = new long[Math.multiplyExact(layers, experts)];
    }

    /** Wraps {@code counts} ([layers][experts], copied) for a text of {@code tokens} tokens. */
    public static RoutingCounts of(long[][] counts, long tokens) {
        RoutingCounts r = new RoutingCounts(counts.length, counts.length == 0 ? 0 : counts[0].length);
        for (int l = 0; l < counts.length; l++) {
            if (counts[l].length != r.experts) throw new RoutecalException("routing counts: layer " + l + " has " + counts[l].length + " experts, layer 0 has " + r.experts);
            System.arraycopy(counts[l], 0, r.counts, l * r.experts, r.experts);
        }
        r.tokens = tokens;
        return r;
    }

    /** Adds one pick of {@code expert} in MoE layer {@code layer} (its ordinal among the MoE layers). */
    public void addPick(int layer, int expert) {
        if (expert < 0 || expert >= experts) throw new RoutecalException("routing counts: expert id " + expert + " out of range 0.." + (experts - 1));
        counts[layer * experts + expert]++;
    }

    /** Counts {@code n} more tokens (their picks are added with {@link #addPick}). */
    public void addTokens(long n) { tokens += n; }

    /** Adds {@code other} in place (same shape). */
    public void add(RoutingCounts other) {
        checkShape(other);
        for (int i = 0; i < counts.length; i++) counts[i] += other.counts[i];
        tokens += other.tokens;
    }

    public RoutingCounts copy() {
        RoutingCounts r = new RoutingCounts(layers, experts);
        System.arraycopy(counts, 0, r.counts, 0, counts.length);
        r.tokens = tokens;
        return r;
    }

    public int layers() { return layers; }
    public int experts() { return experts; }
    public long tokens() { return tokens; }
    public long get(int layer, int expert) { return counts[layer * experts + expert]; }

    /** A copy of all counts. // [layers, experts] row-major, the slot order of routing.parquet and expert_stats */
    public long[] flat() { return counts.clone(); }

    /** A copy of one layer's counts. // [experts] */
    public long[] layerCounts(int layer) {
        long[] out = new long[experts];
        System.arraycopy(counts, layer * experts, out, 0, experts);
        return out;
    }

    public long layerTotal(int layer) {
        long s = 0;
        for (int e = 0; e < experts; e++) s += counts[layer * experts + e];
        return s;
    }

    /** Throws unless {@code other} has the same layers and experts. */
    public void checkShape(RoutingCounts other) {
        if (other.layers != layers || other.experts != experts) {
            throw new RoutecalException("routing counts shape mismatch: " + layers + "×" + experts + " vs " + other.layers + "×" + other.experts);
        }
    }

    /** Σ over slots of max(0, target − count). */
    public long deficit(long target) {
        long d = 0;
        for (long c : counts) d += Math.max(0, target - c);
        return d;
    }

    /** Number of slots with fewer than {@code target} picks. */
    public int slotsBelow(long target) {
        int n = 0;
        for (long c : counts) if (c < target) n++;
        return n;
    }

    /** Smallest count of any slot (0 when there are no slots). */
    public long minCount() {
        long m = Long.MAX_VALUE;
        for (long c : counts) m = Math.min(m, c);
        return counts.length == 0 ? 0 : m;
    }

    /** Normalised entropy of one layer, as {@link BalanceMetrics#normalizedEntropy} defines it (edge cases there). */
    public double normalizedEntropy(int layer) { return BalanceMetrics.normalizedEntropy(layerCounts(layer)); }

    /** The smallest normalised entropy over layers (NaN when a layer has no picks, or there are no layers). */
    public double minNormalizedEntropy() {
        if (layers == 0) return Double.NaN;
        double m = Double.POSITIVE_INFINITY;
        for (int l = 0; l < layers; l++) {
            double h = normalizedEntropy(l);
            if (Double.isNaN(h)) return Double.NaN;
            m = Math.min(m, h);
        }
        return m;
    }

    /** The mean normalised entropy over layers (NaN when a layer has no picks, or there are no layers). */
    public double meanNormalizedEntropy() {
        if (layers == 0) return Double.NaN;
        double s = 0;
        for (int l = 0; l < layers; l++) s += normalizedEntropy(l);
        return s / layers;
    }

    /** Mean over layers of the Jensen–Shannon divergence (base 2, in [0, 1]) between this and {@code other}'s distributions. */
    public double meanJsDivergence(RoutingCounts other) {
        checkShape(other);
        if (layers == 0) return 0;
        double sum = 0;
        for (int l = 0; l < layers; l++) sum += jsBits(l, layerTotal(l), other, other.layerTotal(l));
        return sum / layers;
    }

    private double jsBits(int l, long ta, RoutingCounts b, long tb) {
        if (ta == 0 || tb == 0) return ta == tb ? 0 : 1;
        double js = 0;
        for (int e = 0; e < experts; e++) {
            double p = (double) get(l, e) / ta, q = (double) b.get(l, e) / tb, m = 0.5 * (p + q);
            if (p > 0) js += 0.5 * p * Math.log(p / m);
            if (q > 0) js += 0.5 * q * Math.log(q / m);
        }
        return js / Math.log(2);
    }
}
