package org.routecal.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.routecal.RoutecalException;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe file writes: data goes to a hidden temp file in the target's directory (same filesystem), is fsynced,
 * then renamed over the target in one step. Readers see the old file or the new one, never a half-written one; a
 * killed process leaves at most a {@code .name.tmp-*} file next to the target.
 */
public final class AtomicFiles {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private AtomicFiles() {}

    /** Something that writes to a stream and may fail with an IOException. */
    @FunctionalInterface
    public interface Writer {
        void writeTo(OutputStream out) throws IOException;
    }

    public static void writeString(Path target, String text) {
        write(target, text.getBytes(StandardCharsets.UTF_8));
    }

    public static void write(Path target, byte[] bytes) {
        write(target, out -> out.write(bytes));
    }

    /** Pretty-printed JSON of {@code value} (Jackson), with a trailing newline. */
    public static void writeJson(Path target, Object value) {
        write(target, out -> {
            JSON.writeValue(new NonClosing(out), value);
            out.write('\n');
        });
    }

    /** Runs {@code body} on a temp-file stream; commits if it returns, deletes the temp file if it throws. */
    public static void write(Path target, Writer body) {
        Output out = open(target);
        try {
            body.writeTo(out);
        } catch (IOException e) {
            out.abort();
            throw new RoutecalException(target + ": write failed: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            out.abort();
            throw e;
        }
        out.close();
    }

    /**
     * A stream to a temp file that {@link Output#close()} renames onto {@code target}. Call {@link Output#abort()}
     * when the content is incomplete: close() after an exception would commit it (prefer {@link #write(Path, Writer)}).
     */
    public static Output open(Path target) {
        Path abs = target.toAbsolutePath();
        try {
            Files.createDirectories(abs.getParent());
            Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName() + ".tmp-", "");
            FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            return new Output(abs, tmp, ch);
        } catch (IOException e) {
            throw new RoutecalException(target + ": cannot create file: " + e.getMessage(), e);
        }
    }

    /** The stream returned by {@link #open(Path)}. Buffered; not thread-safe. */
    public static final class Output extends FilterOutputStream {
        private final Path target;
        private final Path tmp;
        private final FileChannel channel;
        private boolean done;

        private Output(Path target, Path tmp, FileChannel channel) {
            super(new java.io.BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16));
            this.target = target;
            this.tmp = tmp;
            this.channel = channel;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len); // FilterOutputStream writes byte by byte otherwise
        }

        /** Flushes, fsyncs and renames the temp file onto the target. */
        @Override
        public void close() {
            if (done) return;
            done = true;
            try {
                out.flush();
                channel.force(true);
                out.close();
                move(tmp, target);
            } catch (IOException e) {
                deleteQuietly();
                throw new RoutecalException(target + ": cannot finish writing: " + e.getMessage(), e);
            }
        }

        /** Discards the temp file; the target is left as it was. */
        public void abort() {
            if (done) return;
            done = true;
            try { out.close(); } catch (IOException ignored) { /* deleting anyway */ }
            deleteQuietly();
        }

        private void deleteQuietly() {
            try { Files.deleteIfExists(tmp); } catch (IOException ignored) { /* best effort: a stray hidden temp file */ }
        }
    }

    /** Renames atomically; falls back to a plain replace on filesystems without atomic rename. */
    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Lets Jackson write to our stream without closing (and so committing) it. */
    private static final class NonClosing extends FilterOutputStream {
        NonClosing(OutputStream out) { super(out); }
        @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); }
        @Override public void close() throws IOException { out.flush(); }
    }
}
