package org.routecal.corpus;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How to read and sample a corpus (JSONL or Parquet rows with {@code text} or chat {@code messages}, optional
 * {@code domain} and {@code sample_id}; or a directory of .txt files).
 *
 * @param corpus             the corpus file (or directory)
 * @param chatTemplate       render {@code messages} rows with the model's chat template (true), or join the turns as
 *                           {@code role:\ncontent} paragraphs (false); {@code text} rows are used as-is either way
 * @param enableThinking     passed to the template as {@code enable_thinking}; null leaves the template's default
 * @param maxTokensPerSample 0 for no limit; longer samples are cut at the last turn or sentence boundary before it, or
 *                           at the limit when there is none (never dropped)
 * @param maxSamples         0 for no limit; spread evenly over the domains (stratified)
 * @param samplesPerDomain   0 for no limit; at most this many per domain
 * @param domains            keep only these domains; empty keeps all
 * @param seed               seed of the per-domain sampling
 * @param dedup              drop rows whose normalised text repeats an earlier row's ({@link DedupKey})
 * @param dropUnknownRoles   drop (and count) turns whose role no chat template renders, instead of refusing the row
 */
public record CorpusOptions(Path corpus, boolean chatTemplate, Boolean enableThinking, int maxTokensPerSample,
                            int maxSamples, int samplesPerDomain, List<String> domains, long seed, boolean dedup,
                            boolean dropUnknownRoles) {
    public CorpusOptions {
        domains = List.copyOf(domains);
        if (maxTokensPerSample < 0 || maxSamples < 0 || samplesPerDomain < 0) {
            throw new IllegalArgumentException("limits must be >= 0 (0 = no limit)");
        }
    }

    /** Every row, chat template on, template defaults, no limits, seed 0, de-duplicated, unknown roles refused. */
    public static CorpusOptions of(Path corpus) {
        return new CorpusOptions(corpus, true, null, 0, 0, 0, List.of(), 0, true, false);
    }

    /**
     * Another file read the same way (rendering, token limit, roles) but whole: no de-duplication, no sampling, no
     * domain filter. A candidate pool is read so, so that every pool row gets a verdict of its own.
     */
    public CorpusOptions whole(Path other) {
        return new CorpusOptions(other, chatTemplate, enableThinking, maxTokensPerSample, 0, 0, List.of(), seed, false, dropUnknownRoles);
    }

    public CorpusOptions withChatTemplate(boolean on) {
        return new CorpusOptions(corpus, on, enableThinking, maxTokensPerSample, maxSamples, samplesPerDomain, domains, seed, dedup, dropUnknownRoles);
    }

    public CorpusOptions withEnableThinking(Boolean on) {
        return new CorpusOptions(corpus, chatTemplate, on, maxTokensPerSample, maxSamples, samplesPerDomain, domains, seed, dedup, dropUnknownRoles);
    }

    public CorpusOptions withMaxTokensPerSample(int n) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, n, maxSamples, samplesPerDomain, domains, seed, dedup, dropUnknownRoles);
    }

    public CorpusOptions withMaxSamples(int n) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, n, samplesPerDomain, domains, seed, dedup, dropUnknownRoles);
    }

    public CorpusOptions withSamplesPerDomain(int n) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, maxSamples, n, domains, seed, dedup, dropUnknownRoles);
    }

    public CorpusOptions withDomains(List<String> keep) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, maxSamples, samplesPerDomain, keep, seed, dedup, dropUnknownRoles);
    }

    public CorpusOptions withSeed(long s) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, maxSamples, samplesPerDomain, domains, s, dedup, dropUnknownRoles);
    }

    public CorpusOptions withDedup(boolean on) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, maxSamples, samplesPerDomain, domains, seed, on, dropUnknownRoles);
    }

    public CorpusOptions withDropUnknownRoles(boolean on) {
        return new CorpusOptions(corpus, chatTemplate, enableThinking, maxTokensPerSample, maxSamples, samplesPerDomain, domains, seed, dedup, on);
    }

    /** The options as manifest parameters (snake_case, as the flags). */
    public Map<String, Object> parameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("corpus", corpus.toString());
        m.put("chat_template", chatTemplate);
        m.put("enable_thinking", enableThinking);
        m.put("max_tokens_per_sample", maxTokensPerSample);
        m.put("max_samples", maxSamples);
        m.put("samples_per_domain", samplesPerDomain);
        m.put("domains", domains);
        m.put("seed", seed);
        m.put("dedup", dedup);
        m.put("drop_unknown_roles", dropUnknownRoles);
        return m;
    }
}
