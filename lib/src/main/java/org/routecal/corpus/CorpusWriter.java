package org.routecal.corpus;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;
import org.routecal.tokenize.ChatMessage;

/**
 * Writes a corpus as JSONL that {@link Corpus} reads back: one object per line with {@code sample_id},
 * {@code domain} and either {@code text} or {@code messages}. Select/refine use it to write compound corpora
 * (original rows plus synthetic ones). The file appears atomically on {@link #close()} ({@link AtomicFiles}: a
 * temporary sibling, fsynced, then renamed), so a crash never leaves half a corpus behind; {@link #abort()} discards.
 */
public final class CorpusWriter implements AutoCloseable {
    private static final ObjectMapper JSON = Json.MAPPER;

    private final Path target;
    private final AtomicFiles.Output file;
    private final BufferedWriter out;
    private boolean closed;

    private CorpusWriter(Path target, AtomicFiles.Output file) {
        this.target = target;
        this.file = file;
        this.out = new BufferedWriter(new OutputStreamWriter(file, StandardCharsets.UTF_8));
    }

    public static CorpusWriter open(Path file) {
        return new CorpusWriter(file, AtomicFiles.open(file));
    }

    /** A plain-text row. */
    public void writeText(String sampleId, String domain, String text) {
        writeText(sampleId, domain, text, Map.of());
    }

    /** A plain-text row with more fields after {@code text} (e.g. refine's {@code source} and {@code round}). */
    public void writeText(String sampleId, String domain, String text, Map<String, ?> extra) {
        ObjectNode row = row(sampleId, domain);
        row.put("text", text);
        extra.forEach((k, v) -> row.set(k, JSON.valueToTree(v)));
        line(row);
    }

    /** A chat row: the messages as {role, content[, reasoning_content, ...]}, rendered by the reader's template. */
    public void writeMessages(String sampleId, String domain, List<ChatMessage> messages) {
        ObjectNode row = row(sampleId, domain);
        ArrayNode arr = row.putArray("messages");
        for (ChatMessage m : messages) arr.add(JSON.valueToTree(m.toTemplateMap()));
        line(row);
    }

    /** A loaded sample, by its final text (already rendered and cut). */
    public void write(Sample sample) {
        writeText(sample.sampleId(), sample.domain(), sample.text());
    }

    private static ObjectNode row(String sampleId, String domain) {
        ObjectNode row = JSON.createObjectNode();
        row.put("sample_id", sampleId);
        row.put("domain", domain);
        return row;
    }

    private void line(ObjectNode row) {
        if (closed) throw new IllegalStateException("corpus writer for " + target + " is closed");
        try {
            out.write(JSON.writeValueAsString(row)); // JSON escapes \n and \r, so a row is one line
            out.write('\n');
        } catch (IOException e) {
            abort();
            throw new RoutecalException("cannot write corpus " + target + ": " + e.getMessage(), e);
        }
    }

    /** Writes all samples to {@code file} atomically. */
    public static void writeAll(Path file, List<Sample> samples) {
        CorpusWriter w = open(file);
        try {
            samples.forEach(w::write);
        } catch (RuntimeException e) {
            w.abort();
            throw e;
        }
        w.close();
    }

    /** Discards what was written; the target file is left as it was. */
    public void abort() {
        if (closed) return;
        closed = true;
        file.abort();
    }

    /** Finishes the file and renames it into place. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            out.flush();
        } catch (IOException e) {
            file.abort();
            throw new RoutecalException("cannot write corpus " + target + ": " + e.getMessage(), e);
        }
        file.close();
    }
}
