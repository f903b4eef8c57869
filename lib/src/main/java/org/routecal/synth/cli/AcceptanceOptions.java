package org.routecal.synth.cli;

import org.routecal.synth.accept.AcceptanceParams;
import picocli.CommandLine.Option;

/** picocli mixin: the acceptance rule (see {@link org.routecal.synth.accept.AcceptanceRule}). */
public final class AcceptanceOptions {
    @Option(names = "--target", defaultValue = "0", description = "tokens wanted per (layer, expert) slot (0: the expert's input width, i.e. hidden size)")
    long target;

    @Option(names = "--min-gain-per-token", defaultValue = "0", description = "accept only above this deficit gain per token (default ${DEFAULT-VALUE})")
    double minGainPerToken;

    @Option(names = "--max-candidate-js", defaultValue = "" + AcceptanceParams.DEFAULT_MAX_CANDIDATE_JS,
            description = "cap on a candidate's mean per-layer JS divergence (bits) from the original routing distribution (default ${DEFAULT-VALUE})")
    double maxCandidateJs;

    @Option(names = "--max-corpus-drift-js", defaultValue = "" + AcceptanceParams.DEFAULT_MAX_CORPUS_DRIFT_JS,
            description = "cap on the grown corpus's mean per-layer JS divergence (bits) from the original (default ${DEFAULT-VALUE})")
    double maxCorpusDriftJs;

    @Option(names = "--max-added-token-ratio", defaultValue = "" + AcceptanceParams.DEFAULT_MAX_ADDED_TOKEN_RATIO,
            description = "added tokens ≤ this × original corpus tokens (0: no cap; default ${DEFAULT-VALUE})")
    double maxAddedTokenRatio;

    public AcceptanceParams params(long defaultTarget) {
        return new AcceptanceParams(target > 0 ? target : defaultTarget, minGainPerToken, maxCandidateJs, maxCorpusDriftJs, maxAddedTokenRatio);
    }
}
