package org.routecal.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.RoutecalException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * JSON Lines: one JSON value per '\n'-terminated line, UTF-8; blank lines are skipped. Errors name the file and the
 * 1-based line. A line counts as written once its '\n' is on disk: {@link Appender} writes each line whole and
 * fsyncs it, and {@link #readTolerant} drops (and reports) an unterminated, unparsable last line left by a killed
 * process, so resumable logs survive crashes.
 */
public final class Jsonl {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Jsonl() {}

    /** One parsed line and its 1-based number. */
    public record Line(long number, JsonNode json) {}

    /** Rows of a file and whether a truncated last line was dropped ({@code droppedLine} = its number, else 0). */
    public record ReadResult(List<JsonNode> rows, long droppedLine, String droppedText) {
        public boolean truncated() { return droppedLine > 0; }
    }

    /** All lines; any bad line (including a truncated last one) is an error naming file and line. */
    public static List<JsonNode> read(Path file) {
        try (Stream<Line> s = stream(file)) {
            List<JsonNode> out = new ArrayList<>();
            s.forEach(l -> out.add(l.json()));
            return out;
        }
    }

    /** All lines bound to {@code type} (Jackson); a line that does not bind is an error naming file and line. */
    public static <T> List<T> read(Path file, Class<T> type) {
        try (Stream<Line> s = stream(file)) {
            List<T> out = new ArrayList<>();
            s.forEach(l -> {
                try {
                    out.add(MAPPER.treeToValue(l.json(), type));
                } catch (JsonProcessingException e) {
                    throw new RoutecalException(file + ":" + l.number() + ": " + e.getOriginalMessage());
                }
            });
            return out;
        }
    }

    /** Lazily parsed lines; close the stream. */
    public static Stream<Line> stream(Path file) {
        BufferedReader r;
        try {
            r = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new RoutecalException(file + ": file not found");
        } catch (IOException e) {
            throw new RoutecalException(file + ": cannot read: " + e.getMessage(), e);
        }
        Iterator<Line> it = new Iterator<>() {
            long number;
            Line next;

            @Override
            public boolean hasNext() {
                try {
                    while (next == null) {
                        String text = r.readLine();
                        if (text == null) return false;
                        number++;
                        if (!text.isBlank()) next = new Line(number, parse(file, number, text));
                    }
                    return true;
                } catch (IOException e) {
                    throw new RoutecalException(file + ": read failed after line " + number + ": " + e.getMessage(), e);
                }
            }

            @Override
            public Line next() {
                if (!hasNext()) throw new NoSuchElementException();
                Line l = next;
                next = null;
                return l;
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, 0), false).onClose(() -> {
            try { r.close(); } catch (IOException ignored) { /* read-only */ }
        });
    }

    /**
     * As {@link #read(Path)}, but an unterminated last line that does not parse (a writer killed mid-line) is dropped
     * and reported in the result instead of failing. A missing file reads as empty.
     */
    public static ReadResult readTolerant(Path file) {
        if (!Files.exists(file)) return new ReadResult(List.of(), 0, null);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RoutecalException(file + ": cannot read: " + e.getMessage(), e);
        }
        List<JsonNode> rows = new ArrayList<>();
        int start = 0;
        long number = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            String line = nl < 0 ? text.substring(start) : text.substring(start, nl);
            number++;
            if (!line.isBlank()) {
                if (nl < 0) {
                    try {
                        rows.add(MAPPER.readTree(line));
                    } catch (JsonProcessingException e) {
                        return new ReadResult(rows, number, line);
                    }
                } else {
                    rows.add(parse(file, number, line));
                }
            }
            if (nl < 0) break;
            start = nl + 1;
        }
        return new ReadResult(rows, 0, null);
    }

    private static JsonNode parse(Path file, long number, String text) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new RoutecalException(file + ":" + number + ": invalid JSON: " + e.getOriginalMessage());
        }
    }

    /** Appends one JSON value per line; each line is written whole and (by default) fsynced before append returns. */
    public static Appender appender(Path file) { return new Appender(file, true); }

    /** As {@link #appender(Path)}; {@code fsync=false} trades crash safety of the last lines for speed. */
    public static Appender appender(Path file, boolean fsync) { return new Appender(file, fsync); }

    /** Line appender for resumable logs. Thread-safe (lines never interleave). */
    public static final class Appender implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final boolean fsync;
        private final long droppedTailBytes;

        private Appender(Path file, boolean fsync) {
            this.file = file;
            this.fsync = fsync;
            try {
                Path parent = file.toAbsolutePath().getParent();
                Files.createDirectories(parent);
                channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                droppedTailBytes = cutPartialTail();
                channel.position(channel.size());
            } catch (IOException e) {
                throw new RoutecalException(file + ": cannot open for appending: " + e.getMessage(), e);
            }
        }

        /** A killed writer may have left a partial last line; cut it so the next line does not glue onto it. */
        private long cutPartialTail() throws IOException {
            long size = channel.size();
            if (size == 0) return 0;
            long pos = size;
            // Scan back in blocks for the last '\n'.
            ByteBuffer block = ByteBuffer.allocate(8192);
            while (pos > 0) {
                long from = Math.max(0, pos - block.capacity());
                block.clear().limit((int) (pos - from));
                channel.read(block, from);
                for (int i = block.position() - 1; i >= 0; i--) {
                    if (block.get(i) == '\n') return settleTail(from + i + 1, size);
                }
                pos = from;
            }
            return settleTail(0, size);
        }

        /** Bytes [keep, size) are an unterminated last line: keep it (adding '\n') if it parses, else cut it. */
        private long settleTail(long keep, long size) throws IOException {
            if (keep == size) return 0;
            ByteBuffer tail = ByteBuffer.allocate(Math.toIntExact(size - keep));
            channel.read(tail, keep);
            String text = new String(tail.array(), StandardCharsets.UTF_8);
            try {
                if (!text.isBlank()) MAPPER.readTree(text);
                channel.write(ByteBuffer.wrap(new byte[] {'\n'}), size); // a complete value written without newline
                return 0;
            } catch (JsonProcessingException e) {
                channel.truncate(keep);
                return size - keep;
            }
        }

        /** Bytes of a partial last line removed at open (0 when the file ended cleanly). */
        public long droppedTailBytes() { return droppedTailBytes; }

        public synchronized void append(Object value) {
            byte[] line;
            try {
                line = (value instanceof JsonNode n ? MAPPER.writeValueAsString(n) : MAPPER.writeValueAsString(value)).concat("\n")
                        .getBytes(StandardCharsets.UTF_8);
            } catch (JsonProcessingException e) {
                throw new RoutecalException(file + ": cannot serialise line: " + e.getOriginalMessage(), e);
            }
            try {
                ByteBuffer b = ByteBuffer.wrap(line);
                while (b.hasRemaining()) channel.write(b);
                if (fsync) channel.force(false);
            } catch (IOException e) {
                throw new RoutecalException(file + ": append failed: " + e.getMessage(), e);
            }
        }

        @Override
        public synchronized void close() {
            try {
                channel.force(false);
                channel.close();
            } catch (IOException e) {
                throw new RoutecalException(file + ": close failed: " + e.getMessage(), e);
            }
        }
    }

    /** Writes all values as a new JSONL file, atomically. */
    public static void write(Path file, Iterable<?> values) {
        AtomicFiles.write(file, out -> {
            for (Object v : values) {
                out.write(MAPPER.writeValueAsBytes(v));
                out.write('\n');
            }
        });
    }
}
