package org.routecal.corpus;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.RoutecalException;

/**
 * Reads corpus rows as JSON objects, whatever the file format, each with a location ("corpus.jsonl line 7") that
 * every later error names. JSONL: one object per line, blank lines skipped. Parquet: one row per record, columns
 * {@code text} (string) or {@code messages} (list of structs with role/content...), {@code domain}, {@code sample_id}.
 */
final class CorpusReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One row and where it came from. */
    record Row(int index, String location, JsonNode node) { }

    private CorpusReader() { }

    static List<Row> read(Path file) {
        if (!Files.isRegularFile(file)) throw new RoutecalException("corpus file not found: " + file);
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json")) return readJsonl(file);
        if (name.endsWith(".parquet")) return ParquetRows.read(file);
        throw new RoutecalException("corpus " + file + ": unknown format (expected .jsonl, .ndjson, .json or .parquet)");
    }

    private static List<Row> readJsonl(Path file) {
        List<Row> rows = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                String where = file + " line " + lineNo;
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new RoutecalException(where + ": not valid JSON (" + e.getOriginalMessage() + ")");
                }
                if (node == null || !node.isObject()) throw new RoutecalException(where + ": expected a JSON object per line");
                rows.add(new Row(rows.size(), where, node));
            }
        } catch (IOException e) {
            throw new RoutecalException("cannot read corpus " + file + ": " + e.getMessage(), e);
        }
        return rows;
    }
}
