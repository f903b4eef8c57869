package org.routecal.synth.select;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.demo.DemoAssets;
import org.routecal.model.MoeModel;
import org.routecal.serve.TokenizerCodec;
import org.routecal.synth.ModelTargetModel;
import org.routecal.tokenize.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pool or corpus row read by select/refine renders to exactly the text the corpus loader (route, quantize) renders,
 * thinking text included — otherwise refine's compound corpus silently drops every sample's reasoning.
 */
class CandidatePoolRenderingTest {
    @Test
    void messagesWithReasoningRenderLikeTheCorpusLoader(@TempDir Path tmp) throws Exception {
        Path model = DemoAssets.ensure(tmp.resolve("cache"));
        Path rows = tmp.resolve("rows.jsonl");
        Files.writeString(rows, """
                {"sample_id":"a","domain":"math","messages":[{"role":"user","content":"Compute 2 + 3."},{"role":"assistant","content":"5.","reasoning_content":"Add the two numbers: 2 + 3 = 5."}]}
                {"sample_id":"b","domain":"chat","messages":[{"role":"user","content":"Hello"},{"role":"assistant","content":"Hi there."}]}
                """);
        try (Tokenizer tok = Tokenizer.load(model); MoeModel m = MoeModel.load(model)) {
            List<String> expected = Corpus.load(CorpusOptions.of(rows), tok).stream().map(s -> s.text()).toList();
            List<String> got = CandidatePool.read(rows, new ModelTargetModel(m, new TokenizerCodec(model), 4096))
                    .stream().map(CandidatePool.Candidate::text).toList();
            assertEquals(expected, got);
            assertTrue(got.get(0).contains("Add the two numbers"), got.get(0));
        }
    }
}
