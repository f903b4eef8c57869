package org.routecal.route;

import org.routecal.RoutecalException;

import java.util.List;

/**
 * Incremental per-(layer, expert) pick counts, overall and per domain, plus the routing-weight mass of each slot.
 * Memory is {@code (domains + 2) × slots} numbers whatever the corpus size; batches are added as they stream by.
 * Each pick counts 1, unweighted, exactly as the reference's step 3 counts {@code (layer, expert_id)} occurrences.
 */
public final class ExpertCounts {
    private final RoutingGeometry geometry;
    private final List<String> domains;
    private final long[] count;          // [slots]
    private final long[][] domainCount;  // [domains][slots]
    private final double[] weightSum;    // [slots] Σ routing weight of the picks
    private final long[] domainTokens;   // [domains]
    private long tokens;

    /** @param domains domain names; a token's domain is given per sample when adding. */
    public ExpertCounts(RoutingGeometry geometry, List<String> domains) {
        this.geometry = geometry;
        this.domains = List.copyOf(domains);
        this.count = new long[geometry.slots()];
        this.domainCount = new long[domains.size()][geometry.slots()];
        this.weightSum = new double[geometry.slots()];
        this.domainTokens = new long[domains.size()];
    }

    /**
     * Adds every token of a batch.
     *
     * @param domainOfSample domain number (index into {@link #domains()}) of each corpus sample, indexed by
     *                       {@link RoutingBatch#sampleIndex()}
     */
    public void add(RoutingBatch batch, int[] domainOfSample) {
        if (!batch.geometry().equals(geometry)) {
            throw new RoutecalException("expert counts: batch geometry " + batch.geometry() + " differs from " + geometry);
        }
        int layers = geometry.layers(), k = geometry.topK(), experts = geometry.experts();
        short[] ids = batch.expertIds();
        float[] w = batch.weights();
        for (int t = 0; t < batch.tokens(); t++) {
            int d = domainOfSample[batch.sampleIndex()[t]];
            long[] dc = domainCount[d];
            domainTokens[d]++;
            for (int l = 0; l < layers; l++) {
                int base = batch.pickOffset(t, l);
                for (int j = 0; j < k; j++) {
                    int e = ids[base + j];
                    if (e < 0 || e >= experts) {
                        throw new RoutecalException("expert counts: expert id " + e + " out of range 0.." + (experts - 1)
                                + " (sample " + batch.sampleIndex()[t] + ", position " + batch.position()[t] + ")");
                    }
                    int s = l * experts + e;
                    count[s]++;
                    dc[s]++;
                    weightSum[s] += w[base + j];
                }
            }
        }
        tokens += batch.tokens();
    }

    public RoutingGeometry geometry() { return geometry; }

    public List<String> domains() { return domains; }

    /** Tokens added so far. */
    public long tokens() { return tokens; }

    /** Tokens added so far from one domain. */
    public long tokens(int domain) { return domainTokens[domain]; }

    /** Picks of one slot. */
    public long count(int layerOrdinal, int expert) { return count[geometry.slot(layerOrdinal, expert)]; }

    /** A copy of all counts. // [slots] = [layers, experts] row-major */
    public long[] counts() { return count.clone(); }

    /** A copy of one domain's counts. // [slots] */
    public long[] domainCounts(int domain) { return domainCount[domain].clone(); }

    /** A copy of the routing-weight mass per slot. // [slots] */
    public double[] weightSums() { return weightSum.clone(); }

    /** The counts of one MoE layer. // [experts] */
    public long[] layerCounts(int layerOrdinal) {
        long[] out = new long[geometry.experts()];
        System.arraycopy(count, layerOrdinal * geometry.experts(), out, 0, out.length);
        return out;
    }
}
