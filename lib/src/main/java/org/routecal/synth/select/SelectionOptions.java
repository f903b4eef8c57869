package org.routecal.synth.select;

import org.routecal.RoutecalException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How {@code select} and {@code refine} choose the text they add, as the {@code --objective} flags give it (the CLI's
 * {@code ObjectiveOptions}, the demo and {@code experiment} build it in Java). The acceptance caps are apart
 * ({@link org.routecal.synth.accept.AcceptanceParams}: their default target depends on the model), and so is the seed
 * (the corpus options' {@code --seed}, which also seeds the stratified draw and self-sampling).
 *
 * @param usageCorpus    the corpus standing for the model's real use (the usage objective's weights, the stratified
 *                       mix), read by the caller as the corpus is; null: the original corpus
 * @param budgetTokens   tokens added to the original at most, in total (0: {@code --max-added-token-ratio} × the
 *                       original's tokens; neither: no budget)
 * @param maxDomainDrift usage objective: cap on the total-variation distance of the domain mix from real use
 * @param selfSample     the self-sampler's generation settings
 */
public record SelectionOptions(Objective objective, Path usageCorpus, long budgetTokens, double maxDomainDrift, SelfSampler.Params selfSample) {
    public static final double DEFAULT_MAX_DOMAIN_DRIFT = 0.1;

    public SelectionOptions {
        if (objective == null) throw new RoutecalException("an objective is needed");
        if (budgetTokens < 0) throw new RoutecalException("--budget-tokens must be >= 0, got " + budgetTokens);
        if (!(maxDomainDrift > 0 && maxDomainDrift <= 1)) throw new RoutecalException("--max-domain-drift must be in (0, 1], got " + maxDomainDrift);
        if (selfSample == null) selfSample = SelfSampler.Params.DEFAULTS;
    }

    /** {@code objective} with the flags' defaults (no usage corpus, no budget beyond the acceptance caps). */
    public static SelectionOptions of(Objective objective) {
        return new SelectionOptions(objective, null, 0, DEFAULT_MAX_DOMAIN_DRIFT, SelfSampler.Params.DEFAULTS);
    }

    /** The CLI's defaults ({@link Objective#DEFAULT}). */
    public static SelectionOptions defaults() { return of(Objective.DEFAULT); }

    /** The parameters for a manifest. */
    public Map<String, Object> parameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("objective", objective.id());
        m.put("budget_tokens", budgetTokens);
        m.put("max_domain_drift", maxDomainDrift);
        if (objective == Objective.SELF_SAMPLE) m.put("self_sample", selfSample);
        return m;
    }
}
