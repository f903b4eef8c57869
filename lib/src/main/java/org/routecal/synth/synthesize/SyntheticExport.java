package org.routecal.synth.synthesize;

import org.routecal.corpus.CorpusWriter;
import org.routecal.io.parquet.ParquetSchema;
import org.routecal.io.parquet.ParquetTableWriter;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Files rebuilt from the {@code synthetic.jsonl} log after every run (so they always equal the log, resumed or not):
 * {@code synthetic.parquet} (every row, accepted or not; format {@value #FORMAT} v1; the reference's columns
 * {@code domain, system_style, seed_augmentation, quality_score, n_tokens} first — {@code quality_score} a double
 * here, the reference wrote the string "5.0" — then ours: {@code key, mode, round, index, text, routing_score, gain,
 * candidate_js, corpus_js, accepted, reason, llm_call_id}; -1 = not computed) and {@code synthetic_accepted.jsonl},
 * the accepted rows as a corpus ({@code {sample_id, domain, text, mode, round}}, the text already in the target chat
 * template) that {@code refine} merges with the original corpus.
 */
public final class SyntheticExport {
    private SyntheticExport() {}

    public static final String ACCEPTED = "synthetic_accepted.jsonl";
    public static final String PARQUET = "synthetic.parquet";
    public static final String FORMAT = "routecal.synthetic";

    static final ParquetSchema SCHEMA = ParquetSchema.builder("synthetic")
            .string("domain").string("system_style").nullable().string("seed_augmentation").nullable()
            .float64("quality_score").int64("n_tokens")
            .string("key").string("mode").int32("round").int32("index").string("text").nullable()
            .float64("routing_score").int64("gain").float64("candidate_js").float64("corpus_js")
            .bool("accepted").string("reason").string("llm_call_id").nullable().build();

    public static void write(Path dir, List<SyntheticRow> rows) {
        try (CorpusWriter w = CorpusWriter.open(dir.resolve(ACCEPTED))) {
            for (SyntheticRow r : rows) {
                if (r.accepted()) w.writeText("synthetic/" + r.key(), r.domain(), r.text(), Map.of("mode", r.mode(), "round", r.round()));
            }
        }
        try (ParquetTableWriter w = ParquetTableWriter.create(dir.resolve(PARQUET), SCHEMA, FORMAT, 1, Map.of())) {
            for (SyntheticRow r : rows) {
                w.append(r.domain(), r.systemStyle(), r.seedAugmentation(), r.qualityScore(), (long) r.nTokens(), r.key(), r.mode(),
                        r.round(), r.index(), r.text(), orMinus(r.routingScore()), r.gain(), orMinus(r.candidateJs()),
                        orMinus(r.corpusJs()), r.accepted(), r.reason(), r.llmCallId());
            }
        }
    }

    private static double orMinus(double d) { return Double.isNaN(d) ? -1 : d; }
}
