package org.routecal.experiment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.routecal.RoutecalException;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.corpus.CorpusOptionsMixin;
import org.routecal.eval.Bootstrap;
import org.routecal.eval.EvalStatistics;
import org.routecal.session.Session;
import org.routecal.session.StageCommand;
import org.routecal.synth.select.Objective;
import org.routecal.synth.select.SelectionOptions;
import org.routecal.synth.select.SelfSampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code routecal experiment}: parses flags into an {@link ExperimentStage.Request}. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Calibration sets (the original corpus, and original + an equal token budget chosen by each --objectives, per seed) × "
                + "MoE modes × schemes: quantize each with GPTQ, evaluate all on --heldout in one pass, and write the table with bootstrap "
                + "intervals and paired differences against --baseline (experiment.html, experiment.json, experiment.md).")
public final class ExperimentCommand implements StageCommand {
    @Option(names = "--model", required = true, description = "original HF model directory") Path model;
    @Mixin CorpusOptionsMixin corpus;
    @Option(names = "--pool", required = true, description = "candidate texts for the selection objectives, read as the corpus is") Path pool;
    @Option(names = "--heldout", required = true, description = "evaluation samples, read as the corpus is; never selected") Path heldout;
    @Option(names = "--out", required = true, description = "run directory") Path out;
    @Option(names = "--overwrite", description = "replace an earlier experiment in --out") boolean overwrite;
    @Option(names = "--objectives", split = ",", defaultValue = "stratified,usage,deficit,self-sample",
            description = "sets beside the original, one per objective (default ${DEFAULT-VALUE})") List<String> objectives;
    @Option(names = "--seeds", split = ",", defaultValue = "0,1,2", description = "calibration seeds (default ${DEFAULT-VALUE})") List<Long> seeds;
    @Option(names = "--modes", split = ",", defaultValue = "routed,hybrid", description = "MoE calibration modes (default ${DEFAULT-VALUE})") List<String> modes;
    @Option(names = "--schemes", split = ",", defaultValue = "w4a16,w3a16", description = "weight schemes (default ${DEFAULT-VALUE})") List<String> schemes;
    @Option(names = "--group-size", defaultValue = "32", description = "columns per scale group (default ${DEFAULT-VALUE})") int groupSize;
    @Option(names = "--budget-ratio", defaultValue = "1.0", description = "tokens every set adds, × the original's (default ${DEFAULT-VALUE})") double budgetRatio;
    @Option(names = "--pool-fraction", defaultValue = "0.7", description = "share of the pool each seed chooses from (default ${DEFAULT-VALUE})") double poolFraction;
    @Option(names = "--heldout-max-tokens", defaultValue = "0", description = "cut evaluation samples to N tokens (0: whole)") int heldoutMaxTokens;
    @Option(names = "--max-domain-drift", defaultValue = "" + SelectionOptions.DEFAULT_MAX_DOMAIN_DRIFT, description = "usage objective's domain-mix cap (default ${DEFAULT-VALUE})") double maxDomainDrift;
    @Option(names = "--self-sample-length", defaultValue = "160", description = "self-sample: new tokens per text (default ${DEFAULT-VALUE})") int selfSampleLength;
    @Option(names = "--self-sample-candidates", defaultValue = "4", description = "self-sample: tokens looked ahead per step (default ${DEFAULT-VALUE})") int selfSampleCandidates;
    @Option(names = "--bootstrap", defaultValue = "1000", description = "bootstrap resamples (default ${DEFAULT-VALUE})") int bootstrap;
    @Option(names = "--bootstrap-seed", defaultValue = "0", description = "bootstrap seed (default ${DEFAULT-VALUE})") long bootstrapSeed;
    @Option(names = "--confidence", defaultValue = "0.95", description = "interval coverage (default ${DEFAULT-VALUE})") double confidence;
    @Option(names = "--baseline", defaultValue = "stratified", description = "set every other one is compared with, paired (default ${DEFAULT-VALUE})") String baseline;
    @Option(names = "--keep-checkpoints", description = "keep the quantized checkpoints (default: removed after evaluation)") boolean keepCheckpoints;
    @Mixin DeviceOptions device = new DeviceOptions();

    @Override
    public Object execute(Session session) {
        List<Objective> objs = new ArrayList<>();
        for (String o : objectives) objs.add(Objective.parse(o.strip()));
        if (seeds.isEmpty() || modes.isEmpty() || schemes.isEmpty()) throw new RoutecalException("--seeds, --modes and --schemes need at least one value");
        if (!(budgetRatio > 0)) throw new RoutecalException("--budget-ratio must be > 0, got " + budgetRatio);
        if (!(poolFraction > 0 && poolFraction <= 1)) throw new RoutecalException("--pool-fraction must be in (0, 1], got " + poolFraction);
        if (heldoutMaxTokens < 0) throw new RoutecalException("--heldout-max-tokens must be >= 0");
        for (String m : modes) {
            try {
                org.routecal.quant.MoeMode.parse(m);
            } catch (IllegalArgumentException e) {
                throw new RoutecalException("--modes: " + e.getMessage());
            }
        }
        try {
            new Bootstrap(List.of(), bootstrap, bootstrapSeed, confidence);
        } catch (IllegalArgumentException e) {
            throw new RoutecalException("--bootstrap/--confidence: " + e.getMessage());
        }
        SelfSampler.Params self = new SelfSampler.Params(SelfSampler.Params.DEFAULTS.promptTokens(), selfSampleLength, selfSampleCandidates,
                SelfSampler.Params.DEFAULTS.temperature(), SelfSampler.Params.DEFAULTS.beta());
        return ExperimentStage.run(new ExperimentStage.Request(model, corpus.toOptions(), pool, heldout, corpus.tokenizer(), out, overwrite, objs,
                seeds, modes, schemes, groupSize, budgetRatio, poolFraction, heldoutMaxTokens, maxDomainDrift, self,
                new EvalStatistics.Options(bootstrap, bootstrapSeed, confidence, null), baseline, keepCheckpoints, device), session);
    }
}
