package org.routecal.corpus;

import java.nio.file.Path;
import java.util.List;

import org.routecal.RoutecalException;

/**
 * Parquet corpus rows. Reading Parquet goes through the io area's {@code org.routecal.io.parquet} reader, which is
 * not on this branch yet; until it is, a Parquet corpus is refused with a clear message rather than read half-way.
 */
final class ParquetRows {
    private ParquetRows() { }

    static List<CorpusReader.Row> read(Path file) {
        throw new RoutecalException("corpus " + file + ": Parquet corpora are not readable in this build yet; convert to JSONL");
    }
}
