package org.routecal.synth.refine;

import org.routecal.corpus.CorpusOptions;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.select.Objective;
import org.routecal.synth.select.SelectionOptions;
import org.routecal.synth.synthesize.SynthesizeParams;

import java.nio.file.Path;

/**
 * Parameters of {@link RefineStage}: exactly one source of new text, {@code pool} (select, no LLM), the model itself
 * ({@code --objective self-sample}), or {@code synthesize} (its {@code round} and {@code outDir} are set per round by
 * the loop).
 *
 * @param corpus   the original corpus and how it is read (the same options as route's, so round 0 counts what route
 *                 counts); always kept whole. The pool and the usage corpus are read with the same rendering and token
 *                 limit; its seed also seeds each selecting round (round r: seed + r − 1).
 * @param perRound texts accepted per round at most (select), or per (mode, domain) and round (synthesize)
 * @param select   how selecting rounds choose (objective, usage corpus, budget, domain-drift cap, self-sampling)
 */
public record RefineParams(Path outDir, CorpusOptions corpus, Path pool, SynthesizeParams synthesize, AcceptanceParams acceptance,
                           StopRule stop, int perRound, SelectionOptions select) {
    /** Whether rounds select (a pool, or the model's own generations) rather than synthesize with an LLM. */
    boolean selects() { return pool != null || select.objective() == Objective.SELF_SAMPLE; }
}
