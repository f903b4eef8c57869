package org.routecal.quant;

import java.nio.file.Path;
import java.util.List;
import org.routecal.cli.StageCommand;
import org.routecal.pipeline.Progress;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import org.routecal.corpus.CorpusOptions;
import org.routecal.corpus.CorpusOptionsMixin;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.Sample;
import org.routecal.tokenize.TextCodec;

/** {@code routecal quantize}: parses flags and calls {@link QuantizeStage}. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize an MoE checkpoint (RTN or GPTQ, routing-aware expert Hessians) into a compressed-tensors checkpoint vLLM loads.")
public final class QuantizeCommand implements StageCommand {
    @Option(names = "--model", required = true, description = "HF model directory")
    Path model;
    @Mixin
    CorpusOptionsMixin corpus;
    @Option(names = "--out", required = true, description = "output checkpoint directory")
    Path out;
    @Option(names = "--overwrite", description = "replace an existing --out")
    boolean overwrite;
    @Option(names = "--scheme", defaultValue = "w4a16", description = "w4a16 | w8a16 | fp8 | nvfp4 (default ${DEFAULT-VALUE})")
    String scheme;
    @Option(names = "--asymmetric", description = "int schemes: asymmetric (zero points); vLLM's MoE kernels want symmetric")
    boolean asymmetric;
    @Option(names = "--group-size", defaultValue = "128", description = "int schemes: columns per scale group, 0 = per channel (default ${DEFAULT-VALUE})")
    int groupSize;
    @Option(names = "--fp8-per-tensor", description = "fp8: one scale per tensor instead of per channel")
    boolean fp8PerTensor;
    @Option(names = "--algorithm", defaultValue = "gptq", description = "rtn | gptq (default ${DEFAULT-VALUE})")
    String algorithm;
    @Option(names = "--block-size", defaultValue = "128", description = "GPTQ block size (default ${DEFAULT-VALUE})")
    int blockSize;
    @Option(names = "--dampening", defaultValue = "0.01", description = "GPTQ damping fraction of mean(diag H) (default ${DEFAULT-VALUE})")
    double dampening;
    @Option(names = "--act-order", defaultValue = "static", description = "none | static | group (default ${DEFAULT-VALUE})")
    String actOrder;
    @Option(names = "--moe-mode", defaultValue = "hybrid", description = "routed | all | weighted | hybrid (default ${DEFAULT-VALUE})")
    String moeMode;
    @Option(names = "--hybrid-lambda", defaultValue = "0.5", description = "λ of hybrid mode (default ${DEFAULT-VALUE})")
    double lambda;
    @Option(names = "--min-tokens", defaultValue = "32", description = "experts with fewer routed tokens fall back (default ${DEFAULT-VALUE})")
    int minTokens;
    @Option(names = "--min-token-fallback", defaultValue = "all", description = "all | rtn (default ${DEFAULT-VALUE})")
    String fallback;
    @Option(names = "--no-sequential", description = "calibrate every layer on the original model's activations")
    boolean noSequential;
    @Option(names = "--ignore", split = ",", description = "modules left unquantized: exact names or re:REGEX (anchored at the start); default: the family's routers, shared-expert gates, lm_head")
    List<String> ignore;

    @Override
    public Object execute(Progress progress) {
        if (!algorithm.equals("rtn") && !algorithm.equals("gptq")) throw new org.routecal.RoutecalException("--algorithm must be rtn or gptq, got " + algorithm);
        if (!fallback.equals("all") && !fallback.equals("rtn")) throw new org.routecal.RoutecalException("--min-token-fallback must be all or rtn, got " + fallback);
        QuantizeOptions o;
        try {
            o = new QuantizeOptions(scheme, !asymmetric, groupSize, fp8PerTensor, algorithm.equals("gptq"),
                    new GptqArgs(blockSize, dampening, ActOrder.parse(actOrder)), MoeMode.parse(moeMode), lambda, minTokens,
                    fallback.equals("all"), !noSequential, ignore, overwrite);
        } catch (IllegalArgumentException e) {
            throw new org.routecal.RoutecalException(e.getMessage());
        }
        CorpusOptions co = corpus.toOptions();
        Corpus.Loaded loaded;
        try (TextCodec codec = corpus.codec(model)) {
            loaded = Corpus.read(co, codec);
        }
        progress.message("corpus: " + loaded);
        return QuantizeStage.run(model, loaded.samples().stream().map(Sample::ids).toList(), o, out, Corpus.manifestInputs(co, loaded), progress);
    }
}
