package org.routecal.corpus;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.routecal.RoutecalException;
import org.routecal.tokenize.TextCodec;
import picocli.CommandLine.Option;

/**
 * The corpus flags shared by every command that reads a calibration corpus; add to a command with
 * {@code @Mixin CorpusOptionsMixin corpus;} and call {@link #toOptions()}.
 */
public final class CorpusOptionsMixin {
    @Option(names = "--corpus", paramLabel = "FILE", required = true,
        description = "Corpus: JSONL or Parquet rows with `text` or chat `messages`, optional `domain`, `sample_id` (or a directory of .txt files).")
    Path corpus;

    @Option(names = "--tokenizer", paramLabel = "auto|byte", defaultValue = "auto",
        description = "auto (the model's tokenizer.json and chat template, default) or byte (byte-vocabulary test models).")
    String tokenizer;

    @Option(names = "--chat-template", paramLabel = "on|off", defaultValue = "on",
        description = "Render `messages` rows with the model's chat template (on, default) or join turns as `role:\\ncontent` (off). `text` rows are always used as-is.")
    String chatTemplate;

    @Option(names = "--enable-thinking", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
        description = "Pass enable_thinking to the chat template (default: the template's own default).")
    Boolean enableThinking;

    @Option(names = "--max-tokens-per-sample", paramLabel = "N", defaultValue = "0",
        description = "Cut longer samples at the last turn or sentence boundary before N tokens, or at N tokens when there is none (0: no limit).")
    int maxTokensPerSample;

    @Option(names = "--max-samples", paramLabel = "N", defaultValue = "0",
        description = "At most N samples, spread evenly over the domains (0: no limit).")
    int maxSamples;

    @Option(names = "--samples-per-domain", paramLabel = "N", defaultValue = "0",
        description = "At most N samples per domain (0: no limit).")
    int samplesPerDomain;

    @Option(names = "--domains", paramLabel = "a,b", split = ",", description = "Keep only these domains.")
    List<String> domains = new ArrayList<>();

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Sampling seed (default 0).")
    long seed;

    @Option(names = "--no-dedup", description = "Keep rows whose normalised text repeats an earlier row.")
    boolean noDedup;

    @Option(names = "--drop-unknown-roles",
        description = "Drop chat turns whose role is not system, user, assistant or tool (counted) instead of refusing the row.")
    boolean dropUnknownRoles;

    /** The parsed flags as options; bad values raise {@link RoutecalException} naming the flag. */
    public CorpusOptions toOptions() {
        boolean template = switch (chatTemplate.toLowerCase(java.util.Locale.ROOT)) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new RoutecalException("--chat-template must be on or off, not '" + chatTemplate + "'");
        };
        if (maxTokensPerSample < 0) throw new RoutecalException("--max-tokens-per-sample must be >= 0");
        if (maxSamples < 0) throw new RoutecalException("--max-samples must be >= 0");
        if (samplesPerDomain < 0) throw new RoutecalException("--samples-per-domain must be >= 0");
        return new CorpusOptions(corpus, template, enableThinking, maxTokensPerSample, maxSamples, samplesPerDomain,
            domains, seed, !noDedup, dropUnknownRoles);
    }

    /** {@code --tokenizer}: auto or byte. */
    public String tokenizer() { return tokenizer; }

    /** The codec that turns this corpus into the model's tokens ({@code --tokenizer}); the caller closes it. */
    public TextCodec codec(Path modelDir) {
        return TextCodec.load(modelDir, tokenizer);
    }

    /** The --seed value (also the seed of the synth stages' own random choices). */
    public long seed() { return seed; }
}
