package org.routecal.experiment;

import java.nio.file.Path;
import java.util.List;
import org.routecal.eval.EvalStatistics;
import org.routecal.synth.select.Objective;
import org.routecal.synth.select.SelfSampler;

/**
 * Parameters of {@link ExperimentStage}.
 *
 * @param model            the original HF checkpoint
 * @param corpus           the original calibration corpus (text rows with domains)
 * @param pool             candidate texts the selection objectives and the stratified draw choose from
 * @param heldout          evaluation samples (never selected)
 * @param out              run directory
 * @param objectives       the calibration sets beside {@code original}: one per objective (stratified = "more of the same")
 * @param seeds            calibration seeds: each draws its own pool subset ({@code poolFraction}) and seeds the
 *                         stratified order and self-sampling, so every non-original set is made once per seed
 * @param modes            MoE calibration modes of quantize (routed, all, weighted, hybrid)
 * @param schemes          int weight schemes (w4a16, w3a16, …), symmetric, {@code groupSize} columns per scale
 * @param budgetRatio      tokens added to the original corpus, as a multiple of its tokens (the same for every set)
 * @param poolFraction     share of the pool each seed may choose from (1: the whole pool, then greedy sets repeat)
 * @param heldoutMaxTokens evaluation samples cut to their first N tokens (0: whole)
 * @param baseline         the set every other one is compared with, paired (stratified: "more of the same")
 */
public record ExperimentParams(Path model, Path corpus, Path pool, Path heldout, Path out, boolean overwrite, List<Objective> objectives,
                               List<Long> seeds, List<String> modes, List<String> schemes, int groupSize, double budgetRatio,
                               double poolFraction, int heldoutMaxTokens, int maxTokensPerSample, double maxDomainDrift,
                               SelfSampler.Params selfSample, EvalStatistics.Options statistics, String baseline, boolean keepCheckpoints) {
    /** The set name of the original corpus alone. */
    public static final String ORIGINAL = "original";
}
