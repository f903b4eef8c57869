package org.routecal.synth.refine;

import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.select.Objective;
import org.routecal.synth.select.SelectStage;
import org.routecal.synth.synthesize.SynthesizeParams;

import java.nio.file.Path;

/**
 * Parameters of {@link RefineStage}: exactly one source of new text, {@code pool} (select, no LLM) or
 * {@code synthesize} (its {@code round} and {@code outDir} are set per round by the loop).
 *
 * @param corpus              the original corpus (.jsonl with text/messages, or a directory of .txt); always kept whole
 * @param perRound            texts accepted per round at most (select), or per (mode, domain) and round (synthesize)
 * @param select              how pool rounds choose (objective, budget, domain-drift cap, seed); its maxAccepted is perRound
 * @param usageCorpus         the corpus standing for real use (usage objective, stratified mix); null: {@code corpus}
 */
public record RefineParams(Path outDir, Path corpus, Path pool, SynthesizeParams synthesize, AcceptanceParams acceptance,
                           StopRule stop, int perRound, int maxTokensPerSample, SelectStage.Options select, Path usageCorpus) {
    /** Pool rounds with the deficit rule (as before objectives existed). */
    public RefineParams(Path outDir, Path corpus, Path pool, SynthesizeParams synthesize, AcceptanceParams acceptance, StopRule stop,
                        int perRound, int maxTokensPerSample) {
        this(outDir, corpus, pool, synthesize, acceptance, stop, perRound, maxTokensPerSample,
                SelectStage.Options.deficit(acceptance, perRound, maxTokensPerSample), null);
    }

    /** Whether rounds select (a pool, or the model's own generations) rather than synthesize with an LLM. */
    boolean selects() { return pool != null || select.objective() == Objective.SELF_SAMPLE; }
}
