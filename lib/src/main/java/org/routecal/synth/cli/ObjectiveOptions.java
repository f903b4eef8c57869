package org.routecal.synth.cli;

import org.routecal.synth.select.Objective;
import org.routecal.synth.select.SelectionOptions;
import org.routecal.synth.select.SelfSampler;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * picocli mixin: how select and refine choose ({@link Objective}), their budget, and the self-sampler's settings. The
 * stratified order and self-sampling are seeded by the corpus options' {@code --seed}.
 */
public final class ObjectiveOptions {
    @Option(names = "--objective", defaultValue = "stratified",
            description = "stratified | usage | deficit | self-sample (default ${DEFAULT-VALUE}): stratified = random pool texts in the original "
                    + "domain mix (more of the same); usage = greedy on the expected quantization error of real use; deficit = the earlier "
                    + "greedy deficit rule; self-sample = the model's own text steered toward under-used experts. On the trained benchmark "
                    + "model none of the others beat stratified at equal budget (README)")
    String objective;

    @Option(names = "--usage-corpus", description = "corpus standing for the model's real use, read as the corpus is (the usage objective's "
            + "expert weights and domain mix; default: --corpus)")
    Path usageCorpus;

    @Option(names = "--budget-tokens", defaultValue = "0", description = "tokens to add in total at most (0: --max-added-token-ratio × the corpus's tokens)")
    long budgetTokens;

    @Option(names = "--max-domain-drift", defaultValue = "" + SelectionOptions.DEFAULT_MAX_DOMAIN_DRIFT,
            description = "usage objective: cap on the total-variation distance between the grown corpus's domain mix and real use's (default ${DEFAULT-VALUE})")
    double maxDomainDrift;

    @Option(names = "--self-sample-length", defaultValue = "160", description = "self-sample: new tokens per generated text (default ${DEFAULT-VALUE})")
    int selfSampleLength;

    @Option(names = "--self-sample-candidates", defaultValue = "4", description = "self-sample: likeliest tokens looked ahead per step (default ${DEFAULT-VALUE})")
    int selfSampleCandidates;

    /** The parsed flags; bad values raise {@link org.routecal.RoutecalException} naming the flag (before any model is loaded). */
    public SelectionOptions selection() {
        SelfSampler.Params p = new SelfSampler.Params(SelfSampler.Params.DEFAULTS.promptTokens(), selfSampleLength, selfSampleCandidates,
                SelfSampler.Params.DEFAULTS.temperature(), SelfSampler.Params.DEFAULTS.beta());
        return new SelectionOptions(Objective.parse(objective), usageCorpus, budgetTokens, maxDomainDrift, p);
    }
}
