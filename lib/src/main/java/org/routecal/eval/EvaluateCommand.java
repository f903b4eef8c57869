package org.routecal.eval;

import java.nio.file.Path;
import java.util.List;
import org.routecal.session.StageCommand;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.model.MoeModel;
import org.routecal.session.Session;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.corpus.CorpusOptionsMixin;
import org.routecal.tokenize.TextCodec;

/** {@code routecal evaluate}: parses flags and calls {@link EvaluateStage}. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Perplexity per sample and domain, KL(original‖quantized), top-1 and router agreement, per-expert output error; "
                + "bootstrap confidence intervals for mean and worst-domain ΔNLL and KL, and paired differences against --baseline.")
public final class EvaluateCommand implements StageCommand {
    @Option(names = "--model", required = true, description = "original HF model directory")
    Path model;
    @Option(names = "--quantized", arity = "0..*", description = "quantized checkpoints (compressed-tensors) to compare")
    List<Path> quantized = List.of();
    @Mixin
    CorpusOptionsMixin corpus;
    @Option(names = "--out", required = true, description = "output directory")
    Path out;
    @Option(names = "--overwrite", description = "replace an existing --out")
    boolean overwrite;

    @Option(names = "--bootstrap", defaultValue = "1000", description = "bootstrap resamples of the held-out samples for the confidence intervals (default ${DEFAULT-VALUE})")
    int bootstrap;
    @Option(names = "--bootstrap-seed", defaultValue = "0", description = "seed of the bootstrap resampling (default ${DEFAULT-VALUE})")
    long bootstrapSeed;
    @Option(names = "--confidence", defaultValue = "0.95", description = "coverage of the percentile intervals (default ${DEFAULT-VALUE})")
    double confidence;
    @Option(names = "--baseline", description = "quantized checkpoint (by directory name) the others are compared with, paired (default: the first --quantized)")
    String baseline;

    @Mixin
    DeviceOptions device = new DeviceOptions();

    @Override
    public Object execute(Session session) {
        EvalStatistics.Options stats;
        try {
            stats = new EvalStatistics.Options(bootstrap, bootstrapSeed, confidence, baseline);
            new Bootstrap(List.of(), bootstrap, bootstrapSeed, confidence); // checks the values before the long pass
        } catch (IllegalArgumentException e) {
            throw new org.routecal.RoutecalException("--bootstrap/--confidence: " + e.getMessage());
        }
        return EvaluateStage.run(new EvaluateStage.Request(model, quantized, corpus.toOptions(), corpus.tokenizer(), out, overwrite, device,
                stats), session);
    }
}
