package org.routecal.quant;

import java.nio.file.Path;
import java.util.List;
import org.routecal.session.StageCommand;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.session.Session;
import org.routecal.quant.alloc.AllocationOptions;
import org.routecal.quant.alloc.BitAllocation;
import org.routecal.quant.awq.AwqArgs;
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
        description = "Quantize an MoE checkpoint (RTN or GPTQ, routing-aware expert Hessians) into a compressed-tensors checkpoint vLLM loads. "
                + "Deterministic: the same corpus and flags give the same checkpoint; --seed only picks the calibration rows that "
                + "--max-samples/--samples-per-domain keep.")
public final class QuantizeCommand implements StageCommand {
    @Option(names = "--model", required = true, description = "HF model directory")
    Path model;
    @Mixin
    CorpusOptionsMixin corpus;
    @Option(names = "--out", required = true, description = "output checkpoint directory")
    Path out;
    @Option(names = "--overwrite", description = "replace an existing --out")
    boolean overwrite;
    @Option(names = "--scheme", defaultValue = "w4a16", description = "w2a16 | w3a16 | w4a16 | w5a16 | w6a16 | w7a16 | w8a16 | fp8 | nvfp4 "
            + "(default ${DEFAULT-VALUE}); vLLM's standard kernels serve int widths 4 and 8 only: the output's README.md says what else it needs")
    String scheme;
    @Option(names = "--asymmetric", description = "int schemes: asymmetric (zero points); vLLM's MoE kernels want symmetric")
    boolean asymmetric;
    @Option(names = "--group-size", description = "int schemes: input columns per scale group, 0 = one scale per output channel "
            + "(default: 128, or for a model whose input columns 128 does not divide, such as the demo model, the largest of 64 and 32 "
            + "that divides them all, else 0; the choice is printed)")
    Integer groupSize;
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
    @Option(names = "--awq", description = "AWQ before GPTQ (or before RTN with --algorithm rtn): per-channel scales searched on the "
            + "calibration data (per expert under --moe-mode) and folded into the norms and layers before them")
    boolean awq;
    @Option(names = "--awq-grid", paramLabel = "N", defaultValue = "20", description = "AWQ grid points per search (default ${DEFAULT-VALUE})")
    int awqGrid;
    @Option(names = "--awq-duo-scaling", paramLabel = "on|off|both", defaultValue = "on", description = "on | off | both: AWQ scales also divided by the weights' "
            + "magnitude (llm-compressor's duo scaling; default ${DEFAULT-VALUE})")
    String awqDuo;
    @Option(names = "--bits-budget", paramLabel = "BITS", description = "per-expert bit allocation: average stored bits per routed-expert weight, scales "
            + "included (W3 at group size 128 costs 3.125); each expert gets one of --bits by an exact knapsack over its usage and "
            + "measured sensitivity; --scheme sets the group size and the width of the other modules")
    Double bitsBudget;
    @Option(names = "--bits", paramLabel = "W", split = ",", defaultValue = "2,3,4", description = "candidate widths of --bits-budget (default ${DEFAULT-VALUE})")
    List<Integer> bits;
    @Option(names = "--allocation-granularity", paramLabel = "layer|expert", defaultValue = "layer", description = "layer | expert: one width per layer's experts "
            + "(what vLLM can serve: its fused-MoE kernels take one scheme per layer) or per expert (default ${DEFAULT-VALUE})")
    String granularity;
    @Option(names = "--usage-run", paramLabel = "DIR", description = "a `routecal route` run directory: expert usage for --bits-budget from its "
            + "expert_stats.parquet (the target corpus) instead of the calibration corpus's routing")
    Path usageRun;
    @Option(names = "--allocation-usage", paramLabel = "measured|uniform", defaultValue = "measured", description = "measured: each expert "
            + "weighs its routing share (of the calibration corpus, or --usage-run's); uniform: every expert weighs the same, a "
            + "sensitivity-only allocation that ignores routing, for comparison (default ${DEFAULT-VALUE})")
    String allocationUsage;
    @Option(names = "--ignore", split = ",", description = "modules left unquantized: exact names or re:REGEX (anchored at the start); default: the family's routers, shared-expert gates, lm_head")
    List<String> ignore;

    @Mixin
    DeviceOptions device = new DeviceOptions();

    @Override
    public Object execute(Session session) {
        if (!algorithm.equals("rtn") && !algorithm.equals("gptq")) throw new org.routecal.RoutecalException("--algorithm must be rtn or gptq, got " + algorithm);
        if (!fallback.equals("all") && !fallback.equals("rtn")) throw new org.routecal.RoutecalException("--min-token-fallback must be all or rtn, got " + fallback);
        int gs = scheme.startsWith("w") ? groupSizeFor(model, groupSize, session.progress()) : groupSize == null ? 128 : groupSize;
        QuantizeOptions o;
        try {
            o = new QuantizeOptions(scheme, !asymmetric, gs, fp8PerTensor, algorithm.equals("gptq"),
                    new GptqArgs(blockSize, dampening, ActOrder.parse(actOrder)), MoeMode.parse(moeMode), lambda, minTokens,
                    fallback.equals("all"), !noSequential, ignore, overwrite,
                    awq ? new AwqArgs(awqGrid, AwqArgs.DuoScaling.parse(awqDuo)) : null, allocation());
        } catch (IllegalArgumentException e) {
            throw new org.routecal.RoutecalException(e.getMessage());
        }
        CorpusOptions co = corpus.toOptions();
        if (co.seed() != 0 && co.maxSamples() == 0 && co.samplesPerDomain() == 0) {
            // quantize is deterministic; the seed only decides which rows the sampling flags keep (issue 17)
            session.progress().message("note: --seed picks the rows --max-samples/--samples-per-domain keep; without them every row is used "
                    + "and quantize is deterministic, so this seed changes nothing");
        }
        return QuantizeStage.run(new QuantizeStage.Request(model, co, corpus.tokenizer(), out, o, device), session);
    }

    /** The bit allocation asked for, or null; its flags without --bits-budget are refused rather than ignored. */
    private AllocationOptions allocation() {
        if (bitsBudget == null) {
            if (usageRun != null || !bits.equals(List.of(2, 3, 4)) || !granularity.equals("layer") || !allocationUsage.equals("measured")) {
                throw new IllegalArgumentException("--bits, --allocation-granularity, --allocation-usage and --usage-run configure --bits-budget; "
                        + "add --bits-budget or leave them out");
            }
            return null;
        }
        BitAllocation.Granularity g = switch (granularity.toLowerCase(java.util.Locale.ROOT)) {
            case "layer" -> BitAllocation.Granularity.LAYER;
            case "expert" -> BitAllocation.Granularity.EXPERT;
            default -> throw new IllegalArgumentException("--allocation-granularity must be layer or expert, got " + granularity);
        };
        boolean uniform = switch (allocationUsage) {
            case "measured" -> false;
            case "uniform" -> true;
            default -> throw new IllegalArgumentException("--allocation-usage must be measured or uniform, got " + allocationUsage);
        };
        return new AllocationOptions(bitsBudget, bits, g, usageRun, uniform);
    }

    /** Group sizes vLLM's int MoE kernels take, largest first; 0 (per output channel) always fits. */
    static final int[] GROUP_SIZES = {128, 64, 32};

    /**
     * The group size for {@code model}: {@code requested} when it divides every 2-D weight's input columns (refused
     * with the size that would fit otherwise), or by default the largest of {@link #GROUP_SIZES} that does, else 0.
     * Real checkpoints get 128; tiny ones (the demo model has 64 and 32 columns) get what fits instead of an error.
     */
    static int groupSizeFor(Path model, Integer requested, Progress progress) {
        java.util.SortedSet<Long> columns = new java.util.TreeSet<>();
        try (org.routecal.io.safetensors.SafetensorsCheckpoint ckpt = org.routecal.io.safetensors.SafetensorsCheckpoint.open(model)) {
            for (String name : ckpt.names()) {
                long[] shape = ckpt.info(name).shape();
                if (shape.length == 2 && name.endsWith(".weight")) columns.add(shape[1]);
            }
        }
        int fits = fittingGroupSize(columns);
        if (requested == null) {
            if (fits != GROUP_SIZES[0]) {
                progress.message("group size " + fits + (fits == 0 ? " (per output channel)" : "") + ": 128 does not divide this model's input columns "
                        + columns + " (set --group-size to choose)");
            }
            return fits;
        }
        if (requested > 0) {
            for (long c : columns) {
                if (c % requested != 0) {
                    throw new org.routecal.RoutecalException("--group-size " + requested + " does not divide the " + c
                            + " input columns of some of this model's weights (all: " + columns + "); use --group-size " + fits
                            + (fits == 0 ? " (one scale per output channel)" : "") + ", or leave it out to get that choice");
                }
            }
        }
        return requested;
    }

    /** The largest of {@link #GROUP_SIZES} dividing every column count, else 0. */
    static int fittingGroupSize(java.util.Collection<Long> columns) {
        for (int g : GROUP_SIZES) {
            if (columns.stream().allMatch(c -> c % g == 0)) return g;
        }
        return 0;
    }
}
