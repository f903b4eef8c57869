package org.routecal.synth.accept;

import org.routecal.RoutecalException;

/**
 * Top-k picks per (layer, expert) slot of a text or corpus, plus how many tokens produced them. Mutable only through
 * {@link #add}; the acceptance rule treats it as a value.
 */
public final class RoutingCounts {
    private final long[][] counts; // [layers][experts]: picks of that expert in that layer
    private long tokens;

    public RoutingCounts(int layers, int experts) {
        this.counts = new long[layers][experts];
    }

    /** Wraps {@code counts} ([layers][experts], copied) for a text of {@code tokens} tokens. */
    public static RoutingCounts of(long[][] counts, long tokens) {
        RoutingCounts r = new RoutingCounts(counts.length, counts.length == 0 ? 0 : counts[0].length);
        for (int l = 0; l < counts.length; l++) {
            if (counts[l].length != r.experts()) throw new RoutecalException("routing counts: layer " + l + " has " + counts[l].length + " experts, layer 0 has " + r.experts());
            System.arraycopy(counts[l], 0, r.counts[l], 0, counts[l].length);
        }
        r.tokens = tokens;
        return r;
    }

    /** Counts from per-token top-k ids: {@code topkIds[layer]} is [tokens, k] row-major. */
    public static RoutingCounts fromTopk(int experts, int[][] topkIds, int topK) {
        RoutingCounts r = new RoutingCounts(topkIds.length, experts);
        for (int l = 0; l < topkIds.length; l++) for (int id : topkIds[l]) r.counts[l][id]++;
        r.tokens = topkIds.length == 0 ? 0 : topkIds[0].length / topK;
        return r;
    }

    public int layers() { return counts.length; }
    public int experts() { return counts.length == 0 ? 0 : counts[0].length; }
    public long tokens() { return tokens; }
    public long get(int layer, int expert) { return counts[layer][expert]; }

    public long layerTotal(int layer) {
        long s = 0;
        for (long c : counts[layer]) s += c;
        return s;
    }

    /** Adds {@code other} in place (same shape). */
    public void add(RoutingCounts other) {
        checkShape(other);
        for (int l = 0; l < counts.length; l++) for (int e = 0; e < counts[l].length; e++) counts[l][e] += other.counts[l][e];
        tokens += other.tokens;
    }

    public RoutingCounts copy() { return of(counts, tokens); }

    void checkShape(RoutingCounts other) {
        if (other.layers() != layers() || other.experts() != experts()) {
            throw new RoutecalException("routing counts shape mismatch: " + layers() + "×" + experts() + " vs " + other.layers() + "×" + other.experts());
        }
    }

    /** Σ over slots of max(0, target − count). */
    public long deficit(long target) {
        long d = 0;
        for (long[] row : counts) for (long c : row) d += Math.max(0, target - c);
        return d;
    }

    /** Smallest count of any slot. */
    public long minCount() {
        long m = Long.MAX_VALUE;
        for (long[] row : counts) for (long c : row) m = Math.min(m, c);
        return counts.length == 0 ? 0 : m;
    }

    /** Normalised entropy (H / ln E, in [0, 1]) of layer {@code layer}'s expert distribution; 1 = perfectly balanced. */
    public double normalizedEntropy(int layer) {
        long total = layerTotal(layer);
        if (total == 0 || experts() < 2) return 0;
        double h = 0;
        for (long c : counts[layer]) if (c > 0) {
            double p = (double) c / total;
            h -= p * Math.log(p);
        }
        return h / Math.log(experts());
    }

    /** The smallest normalised entropy over layers. */
    public double minNormalizedEntropy() {
        double m = 1;
        for (int l = 0; l < layers(); l++) m = Math.min(m, normalizedEntropy(l));
        return layers() == 0 ? 0 : m;
    }

    /** Mean over layers of the Jensen–Shannon divergence (base 2, in [0, 1]) between this and {@code other}'s distributions. */
    public double meanJsDivergence(RoutingCounts other) {
        checkShape(other);
        if (layers() == 0) return 0;
        double sum = 0;
        for (int l = 0; l < layers(); l++) sum += jsBits(counts[l], layerTotal(l), other.counts[l], other.layerTotal(l));
        return sum / layers();
    }

    private static double jsBits(long[] a, long ta, long[] b, long tb) {
        if (ta == 0 || tb == 0) return ta == tb ? 0 : 1;
        double js = 0;
        for (int e = 0; e < a.length; e++) {
            double p = (double) a[e] / ta, q = (double) b[e] / tb, m = 0.5 * (p + q);
            if (p > 0) js += 0.5 * p * Math.log(p / m);
            if (q > 0) js += 0.5 * q * Math.log(q / m);
        }
        return js / Math.log(2);
    }
}
