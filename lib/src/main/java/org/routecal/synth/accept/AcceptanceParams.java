package org.routecal.synth.accept;

import org.routecal.RoutecalException;

/**
 * The knobs of {@link AcceptanceRule}. Defaults follow the evidence in PIPELINE.md ("What the evidence says"): filling
 * scarce experts greedily made results worse than stratified mixing, so a candidate must both lower the deficit and
 * keep the calibration distribution close to the original corpus (real use).
 *
 * @param target             tokens wanted per (layer, expert) slot; the deficit of a slot is {@code max(0, target − count)}
 * @param minGainPerToken    accept only if deficit reduction / candidate tokens exceeds this (0: any reduction)
 * @param maxCandidateJs     cap on the candidate's own pull: mean over layers of the Jensen–Shannon divergence (bits,
 *                           in [0, 1]) between the candidate's expert distribution and the original corpus's
 * @param maxCorpusDriftJs   cap on the whole corpus: mean over layers of JS(corpus after accepting ‖ original corpus)
 * @param maxAddedTokenRatio add to, never swamp: tokens added so far (this candidate included) must stay ≤ this × the
 *                           original corpus's tokens (≤ 0: no cap)
 */
public record AcceptanceParams(long target, double minGainPerToken, double maxCandidateJs, double maxCorpusDriftJs,
                               double maxAddedTokenRatio) {
    public static final double DEFAULT_MAX_CANDIDATE_JS = 0.35;
    public static final double DEFAULT_MAX_CORPUS_DRIFT_JS = 0.02;
    public static final double DEFAULT_MAX_ADDED_TOKEN_RATIO = 1.0;

    public AcceptanceParams {
        if (target <= 0) throw new RoutecalException("acceptance target must be > 0 tokens per slot, got " + target);
        if (maxCandidateJs <= 0 || maxCandidateJs > 1) throw new RoutecalException("--max-candidate-js must be in (0, 1], got " + maxCandidateJs);
        if (maxCorpusDriftJs <= 0 || maxCorpusDriftJs > 1) throw new RoutecalException("--max-corpus-drift-js must be in (0, 1], got " + maxCorpusDriftJs);
    }

    public static AcceptanceParams defaults(long target) {
        return new AcceptanceParams(target, 0.0, DEFAULT_MAX_CANDIDATE_JS, DEFAULT_MAX_CORPUS_DRIFT_JS, DEFAULT_MAX_ADDED_TOKEN_RATIO);
    }

    /** The greedy rule without the distribution caps (the reference-style "fill scarce experts"), for comparisons. */
    public static AcceptanceParams uncapped(long target) {
        return new AcceptanceParams(target, 0.0, 1.0, 1.0, 0);
    }
}
