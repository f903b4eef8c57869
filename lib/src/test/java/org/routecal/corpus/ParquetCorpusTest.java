package org.routecal.corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.tokenize.Tokenizer;
import org.routecal.tokenize.TokenizerFixtures;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A pyarrow-written Parquet corpus (nested messages column) loads exactly like the same rows as JSONL. */
class ParquetCorpusTest {
    @Test
    void parquetRowsEqualJsonlRows() {
        Tokenizer tok = TokenizerFixtures.qwen3Tokenizer();
        Path dir = TokenizerFixtures.dir().resolve("corpus");
        List<Sample> fromJsonl = Corpus.load(CorpusOptions.of(dir.resolve("corpus.jsonl")), tok);
        List<Sample> fromParquet = Corpus.load(CorpusOptions.of(dir.resolve("corpus.parquet")), tok);
        assertEquals(5, fromParquet.size());
        for (int i = 0; i < fromJsonl.size(); i++) {
            Sample a = fromJsonl.get(i);
            Sample b = fromParquet.get(i);
            assertEquals(a.sampleId(), b.sampleId());
            assertEquals(a.domain(), b.domain());
            assertEquals(a.text(), b.text());
            assertArrayEquals(a.encoding().ids(), b.encoding().ids());
        }
        assertEquals(List.of("10", "11", "12", "13", "4"), fromParquet.stream().map(Sample::sampleId).collect(Collectors.toList()));
        assertEquals(Arrays.asList("math", "code", "chat", "chat", "default"),
            fromParquet.stream().map(Sample::domain).collect(Collectors.toList()));
        assertTrue(fromParquet.get(2).text().contains("<think>\nGreek greeting.\n</think>"), fromParquet.get(2).text());
    }

    @Test
    void corruptParquetIsNamed(@TempDir Path tmp) throws IOException {
        Path bad = tmp.resolve("bad.parquet");
        byte[] good = Files.readAllBytes(TokenizerFixtures.dir().resolve("corpus/corpus.parquet"));
        Files.write(bad, Arrays.copyOf(good, good.length / 2));
        RoutecalException e = assertThrows(RoutecalException.class,
            () -> Corpus.load(CorpusOptions.of(bad), TokenizerFixtures.qwen3Tokenizer()));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("Parquet"), e.getMessage());
    }
}
