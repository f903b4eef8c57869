package org.routecal.synth.accept;

import org.routecal.route.RoutingCounts;

/**
 * The acceptance rule of {@code synthesize}, {@code select} and {@code refine}: pure, no I/O.
 *
 * <p>A candidate text (routed through the target model into per-slot counts {@code c}) is accepted into the current
 * corpus (counts {@code n}, which always contains the whole original corpus: we add, never replace) if and only if
 * all of these hold, checked in this order (the first failure is the reason recorded):
 * <ol>
 *   <li>{@code gain = Σ_slots min(c, max(0, target − n)) > 0} and {@code gain / tokens(c) > minGainPerToken}
 *       (it lowers the deficit: greedy cover) — else {@code no_deficit_gain};</li>
 *   <li>{@code meanJS(c ‖ original) ≤ maxCandidateJs}: the candidate's own expert distribution is not too far from
 *       real use, which caps its pull toward rare experts — else {@code candidate_divergence};</li>
 *   <li>{@code meanJS(n + c ‖ original) ≤ maxCorpusDriftJs}: the corpus after accepting stays close to the original
 *       — else {@code corpus_drift};</li>
 *   <li>tokens added so far + {@code tokens(c)} ≤ {@code maxAddedTokenRatio × tokens(original)} — else
 *       {@code added_tokens_cap}.</li>
 * </ol>
 * JS is the Jensen–Shannon divergence in bits, averaged over layers. The score recorded for every candidate (accepted
 * or not) is {@code gain / tokens(c)}: deficit tokens covered per candidate token.
 */
public final class AcceptanceRule {
    private final AcceptanceParams params;
    private final RoutingCounts original;

    /** {@code original}: the routing counts of the original corpus (the reference distribution; not modified). */
    public AcceptanceRule(AcceptanceParams params, RoutingCounts original) {
        this.params = params;
        this.original = original.copy();
    }

    public AcceptanceParams params() { return params; }

    /**
     * The verdict on one candidate (every {@link SelectionObjective} gives one). {@code gain}: how much the candidate
     * lowers the objective (here deficit tokens covered); {@code score}: gain per candidate token, the greedy order;
     * the JS fields are NaN where the rule did not compute them.
     */
    public record Decision(boolean accepted, String reason, double gain, double score, double candidateJs, double corpusJs) {}

    /** Deficit tokens {@code candidate} would cover in {@code current}. */
    public long gain(RoutingCounts current, RoutingCounts candidate) {
        current.checkShape(candidate);
        long g = 0;
        for (int l = 0; l < current.layers(); l++) {
            for (int e = 0; e < current.experts(); e++) {
                long deficit = Math.max(0, params.target() - current.get(l, e));
                g += Math.min(candidate.get(l, e), deficit);
            }
        }
        return g;
    }

    /** Judges {@code candidate} against {@code current} (original + accepted so far); does not modify either. */
    public Decision decide(RoutingCounts current, RoutingCounts candidate) {
        long gain = gain(current, candidate);
        double score = candidate.tokens() == 0 ? 0 : (double) gain / candidate.tokens();
        if (gain <= 0 || score <= params.minGainPerToken()) return new Decision(false, "no_deficit_gain", gain, score, Double.NaN, Double.NaN);
        double candJs = candidate.meanJsDivergence(original);
        if (candJs > params.maxCandidateJs()) return new Decision(false, "candidate_divergence", gain, score, candJs, Double.NaN);
        RoutingCounts after = current.copy();
        after.add(candidate);
        double corpusJs = after.meanJsDivergence(original);
        if (corpusJs > params.maxCorpusDriftJs()) return new Decision(false, "corpus_drift", gain, score, candJs, corpusJs);
        if (params.maxAddedTokenRatio() > 0) {
            long added = after.tokens() - original.tokens();
            if (added > params.maxAddedTokenRatio() * original.tokens()) return new Decision(false, "added_tokens_cap", gain, score, candJs, corpusJs);
        }
        return new Decision(true, "accepted", gain, score, candJs, corpusJs);
    }
}
