package org.routecal.synth.extract;

import org.routecal.synth.llm.LlmOptions;
import org.routecal.synth.llm.LlmParams;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Parameters of {@link ExtractStage}.
 *
 * @param bracketed          {@code bracketed_{mode}.jsonl} files (one per mode)
 * @param outDir             run directory; guidelines go to {@code outDir/guidelines/}, calls to {@code outDir/llm_calls.jsonl}
 * @param domains            domains to do (empty: every domain present)
 * @param examplesPerDomain  tagged examples in each prompt (stratified by red share)
 * @param maxExampleChars    each example is cut to about this many characters
 * @param maxN               longest n-gram in the statistics
 * @param minCount           a term needs this many red + blue occurrences to be listed
 * @param topTerms           terms listed per direction
 * @param seed               for the example choice
 * @param promptDir          directory of template overrides (null: bundled templates)
 * @param llm                endpoint; null: the statistical summary is the guideline
 * @param llmParams          sampling parameters of the extraction call
 */
public record ExtractParams(List<Path> bracketed, Path outDir, Set<String> domains, int examplesPerDomain, int maxExampleChars,
                            int maxN, int minCount, int topTerms, long seed, Path promptDir, LlmOptions llm, LlmParams llmParams) {
    public ExtractParams {
        bracketed = List.copyOf(bracketed);
        domains = Set.copyOf(domains);
    }

    /** The CLI's defaults: every domain, 12 examples of ≤ 1500 characters, 3-grams seen ≥ 3 times, 25 terms, no LLM. */
    public static ExtractParams defaults(List<Path> bracketed, Path outDir) {
        return new ExtractParams(bracketed, outDir, Set.of(), 12, 1500, 3, 3, 25, 42, null, null,
                new LlmParams(0.6, null, 4096, null, java.util.Map.of()));
    }

    /** The same parameters writing into {@code dir}. */
    public ExtractParams withOutDir(Path dir) {
        return new ExtractParams(bracketed, dir, domains, examplesPerDomain, maxExampleChars, maxN, minCount, topTerms, seed, promptDir, llm, llmParams);
    }
}
