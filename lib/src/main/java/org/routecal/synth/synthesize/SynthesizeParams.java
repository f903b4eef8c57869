package org.routecal.synth.synthesize;

import org.routecal.corpus.CorpusOptions;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.llm.LlmOptions;
import org.routecal.synth.llm.LlmParams;

import java.nio.file.Path;

/**
 * Parameters of {@link SynthesizeStage}.
 *
 * @param outDir                run directory: {@code synthetic.jsonl} (the log), {@code synthetic.parquet}, {@code llm_calls.jsonl}
 * @param guidelinesDir         {@code guidelines/} written by extract; one (mode, domain) combo per guideline
 * @param round                 refinement round (part of every row key)
 * @param targetPerCombo        accepted rows wanted per (mode, domain)
 * @param maxCandidatesPerCombo generation attempts per (mode, domain) and round at most (top-up stops there)
 * @param corpus                how candidates are rendered and cut (chat template, enable_thinking, token limit): as
 *                              the corpus is read, so a candidate is the sample route and quantize would see
 * @param fewShot               examples per prompt, drawn from the guideline's stratified examples
 * @param fewShotChars          each example is cut to this many characters
 * @param seed                  personas and example choice are a function of (seed, row key): a resumed run asks the same
 * @param promptDir             template overrides (null: bundled)
 * @param llm                   the generator endpoint
 * @param llmParams             generation sampling (reference: temperature 0.85, top-p 0.95, 2048 tokens)
 * @param acceptance            the acceptance rule's parameters
 */
public record SynthesizeParams(Path outDir, Path guidelinesDir, int round, int targetPerCombo, int maxCandidatesPerCombo,
                               CorpusOptions corpus, int fewShot, int fewShotChars, long seed, Path promptDir,
                               LlmOptions llm, LlmParams llmParams, AcceptanceParams acceptance) {
    public static LlmParams referenceSampling() {
        return new LlmParams(0.85, 0.95, 2048, null, java.util.Map.of());
    }
}
