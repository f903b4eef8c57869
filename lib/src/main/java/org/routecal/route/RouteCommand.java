package org.routecal.route;

import org.routecal.RoutecalException;
import org.routecal.session.StageCommand;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.corpus.CorpusOptionsMixin;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.pipeline.Progress;
import org.routecal.session.Session;
import org.routecal.tokenize.TextCodec;
import org.routecal.tokenize.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code routecal route --model DIR --corpus FILE --out DIR …}: stage 1, routing capture and analysis. Parses only;
 * the work is {@link RouteStage}.
 */
@Command(name = "route", mixinStandardHelpOptions = true,
        description = "Route a corpus through an MoE model: routing.parquet, expert_stats.parquet, metrics.json, token_scores.parquet, report.html.")
public final class RouteCommand implements StageCommand {
    @Option(names = "--model", required = true, description = "HF model directory (config.json, safetensors, tokenizer.json)")
    Path model;

    @Option(names = "--out", required = true, description = "run directory")
    Path out;

    @Mixin
    CorpusOptionsMixin corpus;

    @Option(names = "--jsonl", description = "also write token_routing.jsonl in the reference schema (≈3 kB per token at 48×8)")
    boolean jsonl;

    @Option(names = "--target", defaultValue = "0", description = "tokens each expert should see; 0 = the expert's input width (hidden size)")
    long target;

    @picocli.CommandLine.Mixin
    SlotOptions slots = new SlotOptions();

    @Option(names = "--batch-tokens", defaultValue = "2048", description = "tokens per forward batch (default ${DEFAULT-VALUE})")
    int batchTokens;

    @Option(names = "--no-rtn-sensitivity", description = "skip the RTN W4 output-error measurement (two extra matmuls per routed row)")
    boolean noRtn;

    @Option(names = "--overwrite", description = "replace an existing run of the same model in --out")
    boolean overwrite;

    @Mixin
    DeviceOptions device = new DeviceOptions();

    @Override
    public Object execute(Session session) throws Exception {
        RouteParams p = new RouteParams(target, slots.freqThr, slots.lessThr, slots.robThr, slots.senThr, slots.ranking(), Mode.BALANCE.defaultBoxes(),
                Mode.Q_SENSITIVITY.defaultBoxes(), batchTokens, jsonl, !noRtn, overwrite);
        return RouteStage.run(new RouteStage.Request(model, corpus.toOptions(), corpus.tokenizer(), out, p, device), session);
    }

    /** {@code none} → null; otherwise the marker with \n, \t and \\ unescaped. */
    static String marker(String s) {
        if (s == null || s.equalsIgnoreCase("none")) return null;
        if (s.isEmpty()) throw new RoutecalException("--after: empty marker (use none to tag everything)");
        return s.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\");
    }

    static Ranking ranking(String s) {
        return Ranking.valueOf(enumName(s, "--ranking", "global", "per-layer"));
    }

    /** Checks a flag value against its choices and returns it as an enum constant name. */
    static String enumName(String value, String flag, String... choices) {
        for (String c : choices) if (c.equalsIgnoreCase(value) || c.replace('-', '_').equalsIgnoreCase(value)) return c.replace('-', '_').toUpperCase();
        throw new RoutecalException(flag + ": unknown value '" + value + "', expected one of " + String.join(", ", choices));
    }
}
