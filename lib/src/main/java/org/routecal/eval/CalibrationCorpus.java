package org.routecal.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.routecal.RoutecalException;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.tokenize.Tokenizer;

/**
 * Samples for quantize/evaluate from the shared corpus flags: a text/chat corpus goes through the corpus loader and
 * the model's own tokenizer (chat template, stratified sampling, de-duplication, cutting); a JSONL of pre-tokenized
 * {@code ids} (tests, models without a tokenizer) is read by {@link TokenCorpus}.
 */
public final class CalibrationCorpus {
    private CalibrationCorpus() {}

    public static List<EvalSample> load(CorpusOptions options, Path modelDir) {
        if (isTokenIds(options.corpus())) return TokenCorpus.read(options.corpus(), options.maxSamples());
        try (Tokenizer tok = Tokenizer.load(modelDir)) {
            return Corpus.load(options, tok).stream().map(s -> new EvalSample(s.sampleId(), s.domain(), s.encoding().ids())).toList();
        }
    }

    /** True when the file is JSONL whose first record carries an "ids" array. */
    static boolean isTokenIds(Path file) {
        String name = file.getFileName().toString();
        if (!name.endsWith(".jsonl") && !name.endsWith(".json")) return false;
        try (var lines = Files.lines(file)) {
            String first = lines.map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse("");
            return new ObjectMapper().readTree(first).has("ids");
        } catch (IOException | RuntimeException e) {
            if (!Files.exists(file)) throw new RoutecalException(file + ": no such corpus file");
            return false;
        }
    }
}
