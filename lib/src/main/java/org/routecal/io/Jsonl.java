package org.routecal.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
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
 * JSON Lines, the one reader and writer of routecal: exactly one JSON value per '\n'-terminated line, UTF-8; blank
 * lines are skipped, a UTF-8 byte-order mark at the start of the file is accepted, a trailing '\r' is ignored. Every
 * error names the file and the 1-based line ({@code "rows.jsonl line 7: ..."}): invalid JSON, a second value or other
 * text after the first value on a line, bytes that are not UTF-8.
 *
 * <p>Logs: a line counts as written once its '\n' is on disk. {@link Appender} writes each line whole and fsyncs it;
 * {@link #readLog} and {@link #readTolerant} accept an unterminated last line when it parses and drop (and report) it
 * when it does not (a writer killed mid-line), and the appender cuts such a line before appending, so resumable logs
 * survive crashes.
 */
public final class Jsonl {
    private Jsonl() {}

    /** One parsed line and its 1-based number. */
    public record Line(long number, JsonNode json) {}

    /** Rows of a file and whether a truncated last line was dropped ({@code droppedLine} = its number, else 0). */
    public record ReadResult(List<JsonNode> rows, long droppedLine, String droppedText) {
        public boolean truncated() { return droppedLine > 0; }
    }

    /** "file line N", the location every error starts with. */
    public static String where(Path file, long line) { return file + " line " + line; }

    /** All lines; any bad line (including a truncated last one) is an error naming file and line. */
    public static List<JsonNode> read(Path file) {
        try (Stream<Line> s = stream(file)) {
            List<JsonNode> out = new ArrayList<>();
            s.forEach(l -> out.add(l.json()));
            return out;
        }
    }

    /** All lines as JSON objects; a line holding anything else is an error naming file and line. */
    public static List<ObjectNode> readObjects(Path file) {
        try (Stream<Line> s = stream(file)) {
            List<ObjectNode> out = new ArrayList<>();
            s.forEach(l -> out.add(object(file, l)));
            return out;
        }
    }

    /** All lines bound to {@code type} (Jackson); a line that does not bind is an error naming file and line. */
    public static <T> List<T> read(Path file, Class<T> type) {
        try (Stream<Line> s = stream(file)) {
            List<T> out = new ArrayList<>();
            s.forEach(l -> {
                try {
                    out.add(Json.MAPPER.treeToValue(l.json(), type));
                } catch (JsonProcessingException e) {
                    throw new RoutecalException(where(file, l.number()) + ": " + e.getOriginalMessage());
                }
            });
            return out;
        }
    }

    /** The line's value as an object, or an error naming file and line. */
    public static ObjectNode object(Path file, Line line) {
        if (line.json() instanceof ObjectNode o) return o;
        throw new RoutecalException(where(file, line.number()) + ": expected a JSON object per line, found " + line.json().getNodeType().name().toLowerCase());
    }

    /** Lazily parsed lines; close the stream. */
    public static Stream<Line> stream(Path file) {
        LineReader r = LineReader.open(file);
        Iterator<Line> it = new Iterator<>() {
            Line next;

            @Override
            public boolean hasNext() {
                while (next == null) {
                    String text = r.next();
                    if (text == null) return false;
                    if (!text.isBlank()) next = new Line(r.number(), parse(file, r.number(), text));
                }
                return true;
            }

            @Override
            public Line next() {
                if (!hasNext()) throw new NoSuchElementException();
                Line l = next;
                next = null;
                return l;
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, 0), false).onClose(r::close);
    }

    /**
     * As {@link #read(Path)}, but an unterminated last line that does not parse (a writer killed mid-line) is dropped
     * and reported in the result instead of failing. A missing file reads as empty.
     */
    public static ReadResult readTolerant(Path file) {
        if (!Files.exists(file)) return new ReadResult(List.of(), 0, null);
        List<JsonNode> rows = new ArrayList<>();
        try (LineReader r = LineReader.open(file)) {
            for (String text; (text = r.next()) != null; ) {
                if (text.isBlank()) continue;
                if (!r.terminated()) {
                    try {
                        rows.add(Json.MAPPER.readTree(text));
                    } catch (JsonProcessingException e) {
                        return new ReadResult(rows, r.number(), text);
                    }
                } else {
                    rows.add(parse(file, r.number(), text));
                }
            }
        } catch (RoutecalException e) {
            // a torn multi-byte character in the unterminated last line is a torn write too
            if (e instanceof TornLine t) return new ReadResult(rows, t.line, null);
            throw e;
        }
        return new ReadResult(rows, 0, null);
    }

    /** The rows of a resumable log as objects (as {@link #readTolerant}: a torn last line is ignored; missing = empty). */
    public static List<ObjectNode> readLog(Path file) {
        List<ObjectNode> out = new ArrayList<>();
        long n = 0;
        for (JsonNode row : readTolerant(file).rows()) {
            n++;
            if (!(row instanceof ObjectNode o)) throw new RoutecalException(file + " row " + n + ": expected a JSON object");
            out.add(o);
        }
        return out;
    }

    private static JsonNode parse(Path file, long number, String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new RoutecalException(where(file, number) + ": not valid JSON (" + e.getOriginalMessage()
                    + (e.getOriginalMessage().contains("Trailing token") ? "; one JSON object per line" : "") + ")");
        }
    }

    /** Lines as strings, decoded strictly as UTF-8 one line at a time so a bad byte is reported with its line. */
    private static final class LineReader implements AutoCloseable {
        private final Path file;
        private final InputStream in;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        private final byte[] buf = new byte[1 << 16];
        private int pos, limit;
        private long number;
        private boolean terminated;

        private LineReader(Path file, InputStream in) {
            this.file = file;
            this.in = in;
        }

        static LineReader open(Path file) {
            try {
                return new LineReader(file, Files.newInputStream(file));
            } catch (NoSuchFileException e) {
                throw new RoutecalException(file + ": file not found");
            } catch (IOException e) {
                throw new RoutecalException(file + ": cannot read: " + e.getMessage(), e);
            }
        }

        long number() { return number; }

        /** Whether the last line returned ended with '\n'. */
        boolean terminated() { return terminated; }

        /** The next line without its '\n' (and '\r'), or null at the end of the file. */
        String next() {
            line.reset();
            int b = -1;
            try {
                while (true) {
                    if (pos == limit) {
                        limit = in.read(buf);
                        pos = 0;
                        if (limit <= 0) { limit = 0; b = -1; break; }
                    }
                    int start = pos;
                    while (pos < limit && buf[pos] != '\n') pos++;
                    line.write(buf, start, pos - start);
                    if (pos < limit) { pos++; b = '\n'; break; }
                }
            } catch (IOException e) {
                throw new RoutecalException(file + ": read failed after line " + number + ": " + e.getMessage(), e);
            }
            if (b < 0 && line.size() == 0) return null;
            number++;
            terminated = b == '\n';
            byte[] bytes = line.toByteArray();
            int from = number == 1 && bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF ? 3 : 0;
            int to = bytes.length > from && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
            try {
                CharBuffer chars = utf8.reset().decode(ByteBuffer.wrap(bytes, from, to - from));
                return chars.toString();
            } catch (CharacterCodingException e) {
                if (!terminated) throw new TornLine(file, number);
                throw new RoutecalException(where(file, number) + ": not valid UTF-8 (at byte " + (1 + badByte(bytes, from, to)) + " of the line); "
                        + "routecal reads UTF-8 text only: convert the file (e.g. iconv -f latin1 -t utf-8)");
            }
        }

        /** 0-based offset in the line of the first byte that does not decode. */
        private int badByte(byte[] bytes, int from, int to) {
            CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            ByteBuffer in = ByteBuffer.wrap(bytes, from, to - from);
            CharBuffer out = CharBuffer.allocate(to - from + 1);
            d.decode(in, out, true);
            return in.position();
        }

        @Override
        public void close() {
            try { in.close(); } catch (IOException ignored) { /* read-only */ }
        }
    }

    /** Undecodable bytes in an unterminated last line: what a writer killed mid-character leaves. */
    private static final class TornLine extends RoutecalException {
        final long line;

        TornLine(Path file, long line) {
            super(where(file, line) + ": unterminated last line is not valid UTF-8 (torn write?)");
            this.line = line;
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
            try {
                String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(tail.array())).toString();
                if (!text.isBlank()) Json.MAPPER.readTree(text);
                channel.write(ByteBuffer.wrap(new byte[] {'\n'}), size); // a complete value written without newline
                return 0;
            } catch (JsonProcessingException | CharacterCodingException e) {
                channel.truncate(keep);
                return size - keep;
            }
        }

        /** Bytes of a partial last line removed at open (0 when the file ended cleanly). */
        public long droppedTailBytes() { return droppedTailBytes; }

        public Path file() { return file; }

        public synchronized void append(Object value) {
            byte[] line;
            try {
                line = Json.MAPPER.writeValueAsString(value).concat("\n").getBytes(StandardCharsets.UTF_8);
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
                out.write(Json.MAPPER.writeValueAsBytes(v));
                out.write('\n');
            }
        });
    }
}
