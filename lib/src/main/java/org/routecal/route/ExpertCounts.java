package org.routecal.route;

import org.routecal.RoutecalException;

import java.util.List;

/**
 * Incremental per-(layer, expert) pick counts of a routed corpus, overall and per domain (each a
 * {@link RoutingCounts}, the one counter), plus the routing-weight mass of each slot. Memory is
 * {@code (domains + 2) × slots} numbers whatever the corpus size; batches are added as they stream by.
 */
public final class ExpertCounts {
    private final RoutingGeometry geometry;
    private final List<String> domains;
    private final RoutingCounts total;
    private final RoutingCounts[] perDomain; // [domains]
    private final double[] weightSum;        // [slots] Σ routing weight of the picks

    /** @param domains domain names; a token's domain is given per sample when adding. */
    public ExpertCounts(RoutingGeometry geometry, List<String> domains) {
        this.geometry = geometry;
        this.domains = List.copyOf(domains);
        this.total = new RoutingCounts(geometry.layers(), geometry.experts());
        this.perDomain = new RoutingCounts[domains.size()];
        for (int d = 0; d < perDomain.length; d++) perDomain[d] = new RoutingCounts(geometry.layers(), geometry.experts());
        this.weightSum = new double[geometry.slots()];
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
            RoutingCounts dc = perDomain[domainOfSample[batch.sampleIndex()[t]]];
            dc.addTokens(1);
            for (int l = 0; l < layers; l++) {
                int base = batch.pickOffset(t, l);
                for (int j = 0; j < k; j++) {
                    int e = ids[base + j];
                    if (e < 0 || e >= experts) {
                        throw new RoutecalException("expert counts: expert id " + e + " out of range 0.." + (experts - 1)
                                + " (sample " + batch.sampleIndex()[t] + ", position " + batch.position()[t] + ")");
                    }
                    total.addPick(l, e);
                    dc.addPick(l, e);
                    weightSum[l * experts + e] += w[base + j];
                }
            }
        }
        total.addTokens(batch.tokens());
    }

    public RoutingGeometry geometry() { return geometry; }

    public List<String> domains() { return domains; }

    /** The counts of the whole corpus (a copy). */
    public RoutingCounts total() { return total.copy(); }

    /** Tokens added so far. */
    public long tokens() { return total.tokens(); }

    /** Tokens added so far from one domain. */
    public long tokens(int domain) { return perDomain[domain].tokens(); }

    /** Picks of one slot. */
    public long count(int layerOrdinal, int expert) { return total.get(layerOrdinal, expert); }

    /** A copy of all counts. // [slots] = [layers, experts] row-major */
    public long[] counts() { return total.flat(); }

    /** A copy of one domain's counts. // [slots] */
    public long[] domainCounts(int domain) { return perDomain[domain].flat(); }

    /** A copy of the routing-weight mass per slot. // [slots] */
    public double[] weightSums() { return weightSum.clone(); }

    /** The counts of one MoE layer. // [experts] */
    public long[] layerCounts(int layerOrdinal) { return total.layerCounts(layerOrdinal); }
}
