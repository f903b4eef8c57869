package org.routecal.synth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * An append-only JSONL log whose every line is on disk (fsync) before {@link #append} returns, so a killed process
 * loses at most the line being written. Reading tolerates exactly that: a last line without its newline (a torn
 * write) is ignored and cut off when the log is reopened for appending, so a resumed run never sees half a row.
 * Thread-safe.
 */
public final class AppendLog implements AutoCloseable {
    public static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final FileChannel channel;

    private AppendLog(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /** Opens (creating if absent) {@code file} for appending; a torn last line is truncated away first. */
    public static AppendLog open(Path file) {
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
            ch.truncate(completeLength(file));
            ch.position(ch.size());
            return new AppendLog(file, ch);
        } catch (IOException e) {
            throw new RoutecalException("cannot open log " + file + " for appending: " + e.getMessage(), e);
        }
    }

    /** Writes one JSON object as one line and forces it to disk. */
    public synchronized void append(JsonNode row) {
        try {
            byte[] line = (JSON.writeValueAsString(row) + "\n").getBytes(StandardCharsets.UTF_8);
            ByteBuffer buf = ByteBuffer.wrap(line);
            while (buf.hasRemaining()) channel.write(buf);
            channel.force(false);
        } catch (IOException e) {
            throw new RoutecalException("cannot append to " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() { return file; }

    @Override public synchronized void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new RoutecalException("cannot close " + file + ": " + e.getMessage(), e);
        }
    }

    /** All complete lines of {@code file} as JSON objects (empty if the file is absent); a torn last line is skipped. */
    public static List<ObjectNode> read(Path file) {
        List<ObjectNode> rows = new ArrayList<>();
        if (!Files.exists(file)) return rows;
        try {
            byte[] all = Files.readAllBytes(file);
            String text = new String(all, 0, (int) completeLength(all), StandardCharsets.UTF_8);
            int lineNo = 0;
            for (String line : text.split("\n")) {
                lineNo++;
                if (line.isBlank()) continue;
                JsonNode n;
                try {
                    n = JSON.readTree(line);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new RoutecalException(file + " line " + lineNo + ": not valid JSON (" + e.getOriginalMessage() + ")");
                }
                if (!(n instanceof ObjectNode)) throw new RoutecalException(file + " line " + lineNo + ": expected a JSON object");
                rows.add((ObjectNode) n);
            }
            return rows;
        } catch (IOException e) {
            throw new RoutecalException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static long completeLength(Path file) throws IOException {
        return completeLength(Files.readAllBytes(file));
    }

    /** Length up to and including the last newline: the part of the file made of whole lines. */
    private static long completeLength(byte[] all) {
        int end = all.length;
        while (end > 0 && all[end - 1] != '\n') end--;
        return end;
    }
}
