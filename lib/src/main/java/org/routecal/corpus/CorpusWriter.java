package org.routecal.corpus;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;

/**
 * Writes a corpus as JSONL that {@link Corpus} reads back: one object per line with {@code sample_id},
 * {@code domain} and either {@code text} or {@code messages}. Select/refine use it to write compound corpora
 * (original rows plus synthetic ones). The file appears atomically on {@link #close()} (written to a temporary
 * sibling, then renamed), so a crash never leaves half a corpus behind.
 */
public final class CorpusWriter implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path target;
    private final Path temp;
    private final BufferedWriter out;
    private boolean closed;

    private CorpusWriter(Path target, Path temp, BufferedWriter out) {
        this.target = target;
        this.temp = temp;
        this.out = out;
    }

    public static CorpusWriter open(Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path temp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            return new CorpusWriter(file, temp,
                new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(temp), StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new RoutecalException("cannot write corpus " + file + ": " + e.getMessage(), e);
        }
    }

    /** A plain-text row. */
    public void writeText(String sampleId, String domain, String text) {
        ObjectNode row = row(sampleId, domain);
        row.put("text", text);
        line(row);
    }

    /** A chat row: messages as {role, content[, reasoning_content, ...]} maps, rendered by the reader's template. */
    public void writeMessages(String sampleId, String domain, List<? extends Map<String, ?>> messages) {
        ObjectNode row = row(sampleId, domain);
        row.set("messages", JSON.valueToTree(messages));
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
            throw new RoutecalException("cannot write corpus " + target + ": " + e.getMessage(), e);
        }
    }

    /** Writes all samples to {@code file} atomically. */
    public static void writeAll(Path file, List<Sample> samples) {
        try (CorpusWriter w = open(file)) {
            samples.forEach(w::write);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            out.close();
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // the original error is the one to report
            }
            throw new RoutecalException("cannot write corpus " + target + ": " + e.getMessage(), e);
        }
    }
}
