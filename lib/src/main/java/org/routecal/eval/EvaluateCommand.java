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
        description = "Perplexity per sample and domain, KL(original‖quantized), top-1 and router agreement, per-expert output error.")
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

    @Mixin
    DeviceOptions device = new DeviceOptions();

    @Override
    public Object execute(Session session) {
        return EvaluateStage.run(new EvaluateStage.Request(model, quantized, corpus.toOptions(), corpus.tokenizer(), out, overwrite, device),
                session);
    }
}
