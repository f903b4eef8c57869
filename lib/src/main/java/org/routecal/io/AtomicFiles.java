package org.routecal.io;

import org.routecal.RoutecalException;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * The one way routecal writes files and directories crash-safely: data goes to a hidden temp sibling of the target
 * (same directory, so the same filesystem), is fsynced, then renamed over the target in one step. Readers see the old
 * content or the new, never half of it; a killed process leaves at most a hidden {@code .name.tmp-*} sibling.
 *
 * <p>Temp files and directories are created with the process umask like any other file ({@code Files.createTempFile}
 * would make them 0600 and 0700, and the rename would carry that over: a checkpoint that another user, or vLLM running
 * as another account, cannot read).
 */
public final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

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
            Json.PRETTY.writeValue(new NonClosing(out), value);
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
            Path tmp = tempFile(abs);
            FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            return new Output(abs, tmp, ch);
        } catch (IOException e) {
            throw new RoutecalException(target + ": cannot create file: " + e.getMessage(), e);
        }
    }

    /**
     * A new empty hidden file {@code .name.tmp-<random>} beside {@code target} (parents created), for writers that need
     * a path (Parquet, safetensors); finish with {@link #commit(Path, Path)} or delete it.
     */
    public static Path tempFile(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        while (true) {
            try {
                return Files.createFile(abs.resolveSibling(tempName(abs, "tmp")));
            } catch (FileAlreadyExistsException e) {
                // another random name
            }
        }
    }

    /** A new empty hidden directory {@code .name.tmp-<random>} beside {@code target}, for outputs built as a whole. */
    public static Path tempDirectory(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Files.createDirectories(abs.getParent());
        while (true) {
            try {
                return Files.createDirectory(abs.resolveSibling(tempName(abs, "tmp")));
            } catch (FileAlreadyExistsException e) {
                // another random name
            }
        }
    }

    /** Whether {@code p} is a temp sibling made by {@link #tempFile} or {@link #tempDirectory} for {@code target}. */
    public static boolean isTempOf(Path p, Path target) {
        String name = p.getFileName().toString();
        return name.startsWith("." + target.getFileName() + ".tmp-") || name.startsWith("." + target.getFileName() + ".old-");
    }

    private static String tempName(Path target, String kind) {
        byte[] r = new byte[6];
        RANDOM.nextBytes(r);
        return "." + target.getFileName() + "." + kind + "-" + HexFormat.of().formatHex(r);
    }

    /** Fsyncs the finished temp file {@code tmp} and renames it onto {@code target} (replacing it) in one step. */
    public static void commit(Path tmp, Path target) throws IOException {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        move(tmp, target);
    }

    /**
     * Renames the finished temp directory {@code tmp} onto {@code target}. An existing {@code target} is first renamed
     * aside to a hidden {@code .name.old-*} sibling and deleted after the swap, so at every moment {@code target} is
     * either the old directory or the new one (never a mix); the caller has checked that replacing it is allowed.
     */
    public static void commitDirectory(Path tmp, Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.exists(abs, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Path old = abs.resolveSibling(tempName(abs, "old"));
            Files.move(abs, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(old);
        } else {
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Deletes a directory tree (or a file); best effort: a leftover hidden temp is harmless and named as such. */
    public static void deleteTree(Path root) {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // best effort, see above
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
