package org.routecal.corpus;

import java.nio.file.Path;
import java.util.List;

/**
 * How to read and sample a corpus (JSONL or Parquet rows with {@code text} or chat {@code messages}, optional
 * {@code domain} and {@code sample_id}).
 *
 * @param corpus             the corpus file
 * @param chatTemplate       render {@code messages} rows with the model's chat template (true), or join the turns as
 *                           {@code role:\ncontent} paragraphs (false); {@code text} rows are used as-is either way
 * @param enableThinking     passed to the template as {@code enable_thinking}; null leaves the template's default
 * @param maxTokensPerSample 0 for no limit; longer samples are cut at the last turn or sentence boundary before it
 * @param maxSamples         0 for no limit; spread evenly over the domains (stratified)
 * @param samplesPerDomain   0 for no limit; at most this many per domain
 * @param domains            keep only these domains; empty keeps all
 * @param seed               seed of the per-domain sampling
 * @param dedup              drop rows whose normalised text repeats an earlier row's
 */
public record CorpusOptions(Path corpus, boolean chatTemplate, Boolean enableThinking, int maxTokensPerSample,
                            int maxSamples, int samplesPerDomain, List<String> domains, long seed, boolean dedup) {
    public CorpusOptions {
        domains = List.copyOf(domains);
        if (maxTokensPerSample < 0 || maxSamples < 0 || samplesPerDomain < 0) {
            throw new IllegalArgumentException("limits must be >= 0 (0 = no limit)");
        }
    }

    /** Every row, chat template on, template defaults, no limits, seed 0, de-duplicated. */
    public static CorpusOptions of(Path corpus) {
        return new CorpusOptions(corpus, true, null, 0, 0, 0, List.of(), 0, true);
    }

    public CorpusOptions withChatTemplate(boolean on) {
        return new CorpusOptions(corpus, on, enableThinking, maxTokensPerSample, maxSamples, samplesPerDomain, domains, seed, dedup);
    }

    public CorpusOptions withEnableThinking(Boolean on) {
        return new CorpusOptions(corpus, chatTemplate, on, maxTokensPerSample, maxSamples, samplesPerDomain, domains, seed, dedup);
    }

    public CorpusOptions withMaxTokensPerSample(int n) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, n, maxSamples, samplesPerDomain, domains, seed, dedup);
    }

    public CorpusOptions withMaxSamples(int n) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, n, samplesPerDomain, domains, seed, dedup);
    }

    public CorpusOptions withSamplesPerDomain(int n) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, maxSamples, n, domains, seed, dedup);
    }

    public CorpusOptions withDomains(List<String> keep) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, maxSamples, samplesPerDomain, keep, seed, dedup);
    }

    public CorpusOptions withSeed(long s) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, maxSamples, samplesPerDomain, domains, s, dedup);
    }

    public CorpusOptions withDedup(boolean on) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, maxSamples, samplesPerDomain, domains, seed, on);
    }
}
