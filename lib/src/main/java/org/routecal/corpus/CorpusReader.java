package org.routecal.corpus;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.io.Jsonl;

/**
 * Reads corpus rows as JSON objects, whatever the source, each with a location ("corpus.jsonl line 7") that every
 * later error names:
 * <ul>
 *   <li>JSONL ({@code .jsonl}, {@code .ndjson}, {@code .json}): strictly one object per line ({@link Jsonl}: UTF-8, a
 *       byte-order mark accepted, blank lines skipped, a second value on a line an error);</li>
 *   <li>Parquet: one row per record, columns {@code text} (string) or {@code messages} (list of structs
 *       role/content/...), {@code domain}, {@code sample_id};</li>
 *   <li>a directory of {@code .txt} files (a candidate pool): one text each, {@code sample_id} = the path relative to
 *       the directory, {@code domain} = its first sub-directory ("default" at the top).</li>
 * </ul>
 */
final class CorpusReader {
    /** One row and where it came from; {@code index} is the 0-based row number (the default sample_id). */
    record Row(int index, String location, ObjectNode node) { }

    private CorpusReader() { }

    static List<Row> read(Path source) {
        if (Files.isDirectory(source)) return readTextDir(source);
        if (!Files.isRegularFile(source)) throw new RoutecalException("corpus file not found: " + source);
        String name = source.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json")) return readJsonl(source);
        if (name.endsWith(".parquet")) return ParquetRows.read(source);
        throw new RoutecalException("corpus " + source + ": unknown format (expected .jsonl, .ndjson, .json, .parquet or a directory of .txt files)");
    }

    private static List<Row> readJsonl(Path file) {
        List<Row> rows = new ArrayList<>();
        try (Stream<Jsonl.Line> lines = Jsonl.stream(file)) {
            lines.forEach(l -> rows.add(new Row(rows.size(), Jsonl.where(file, l.number()), Jsonl.object(file, l))));
        }
        return rows;
    }

    private static List<Row> readTextDir(Path dir) {
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".txt")).sorted().toList();
        } catch (IOException e) {
            throw new RoutecalException("cannot read corpus directory " + dir + ": " + e.getMessage(), e);
        }
        if (files.isEmpty()) throw new RoutecalException("corpus directory " + dir + " has no .txt files");
        List<Row> rows = new ArrayList<>();
        for (Path p : files) {
            Path rel = dir.relativize(p);
            ObjectNode n = JsonNodeFactory.instance.objectNode();
            n.put("sample_id", rel.toString());
            n.put("domain", rel.getNameCount() > 1 ? rel.getName(0).toString() : "default");
            n.put("text", readUtf8(p));
            rows.add(new Row(rows.size(), p.toString(), n));
        }
        return rows;
    }

    private static String readUtf8(Path p) {
        try {
            byte[] b = Files.readAllBytes(p);
            int from = b.length >= 3 && (b[0] & 0xff) == 0xEF && (b[1] & 0xff) == 0xBB && (b[2] & 0xff) == 0xBF ? 3 : 0;
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, from, b.length - from)).toString();
        } catch (CharacterCodingException e) {
            throw new RoutecalException(p + ": not valid UTF-8; routecal reads UTF-8 text only: convert the file (e.g. iconv -f latin1 -t utf-8)");
        } catch (IOException e) {
            throw new RoutecalException("cannot read " + p + ": " + e.getMessage(), e);
        }
    }
}
