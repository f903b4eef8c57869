package org.routecal.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The output directory of one stage run ({@code --out}), the one mechanism every stage writes through. It makes sure
 * routecal never deletes or mixes what it did not make:
 * <ol>
 *   <li><b>Inputs stay safe.</b> {@code --out} equal to, inside, or containing an input of the same run
 *       ({@code --model}, {@code --corpus}, {@code --run}, ...) is refused: replacing it could destroy the input.</li>
 *   <li><b>One writer.</b> A lock file {@code .<name>.lock} beside {@code --out} is held (an OS file lock, released
 *       when the process ends, however it ends) for the whole run and names the owner's pid; a second writer is
 *       refused with that pid. A lock left by a killed process is simply taken over.</li>
 *   <li><b>Ownership.</b> The first file written is the marker {@value #MARKER}: {@code {"format": "routecal.run",
 *       "command", "run_id", "created", "pid"}}. An existing non-empty {@code --out} is replaced only with
 *       {@code --overwrite}, and only when it carries our marker from the same command (an interrupted run, with
 *       0-byte files and no manifest, included); a directory without the marker is never written into or deleted.
 *       Resumable stages ({@link Builder#resume}) continue their own earlier run instead.</li>
 *   <li><b>Completion.</b> {@value #MANIFEST} is written last: readers such as {@code bracket} accept a run only when
 *       it is there ({@link #requireComplete}). A staged output ({@link Builder#staged}: a checkpoint) is built in a
 *       hidden sibling directory and renamed onto {@code --out} by {@link #commit}, so {@code --out} is the old
 *       output or the new one, never half of each; without commit (a failure) the old output is left as it was.</li>
 * </ol>
 * Files and directories get the process umask's permissions (see {@link AtomicFiles}).
 */
public final class OutputDir implements AutoCloseable {
    public static final String MANIFEST = "manifest.json";
    public static final String MARKER = ".routecal-run";
    static final String MARKER_FORMAT = "routecal.run";

    private final Path target;
    private final Path path;
    private final String command;
    private final String runId;
    private final Lock lock;
    private final boolean resumed;
    private boolean done;

    private OutputDir(Path target, Path path, String command, String runId, Lock lock, boolean resumed) {
        this.target = target;
        this.path = path;
        this.command = command;
        this.runId = runId;
        this.lock = lock;
        this.resumed = resumed;
    }

    /** Starts the checks for {@code out} of a run of {@code command} (e.g. "route"). */
    public static Builder of(String command, Path out) { return new Builder(command, out); }

    /** Options of {@link #open()}. */
    public static final class Builder {
        private final String command;
        private final Path out;
        private final Map<String, Path> inputs = new LinkedHashMap<>();
        private boolean overwrite, resume, staged;

        private Builder(String command, Path out) {
            this.command = command;
            this.out = out;
        }

        /** An input of the run under the flag users know it by ("--model"); null paths are ignored. */
        public Builder input(String flag, Path path) {
            if (path != null) inputs.put(flag + (inputs.containsKey(flag) ? " " + path : ""), path);
            return this;
        }

        public Builder inputs(String flag, List<Path> paths) {
            for (Path p : paths) input(flag, p);
            return this;
        }

        /** Replace an existing output of the same command (marked as ours). */
        public Builder overwrite(boolean on) { this.overwrite = on; return this; }

        /** Continue an existing output of the same command instead of refusing it (e.g. synthesize's log). */
        public Builder resume(boolean on) { this.resume = on; return this; }

        /** Build the output in a hidden sibling and rename it onto {@code out} at {@link #commit}. */
        public Builder staged(boolean on) { this.staged = on; return this; }

        /** Checks inputs, takes the lock, applies the overwrite rules and writes the marker. */
        public OutputDir open() {
            Path target = absolute(out);
            checkInputs(target);
            Lock lock = Lock.acquire(target, command);
            try {
                return prepare(target, lock);
            } catch (RuntimeException | Error e) {
                lock.close();
                throw e;
            }
        }

        private void checkInputs(Path target) {
            Path real = real(target);
            for (Map.Entry<String, Path> in : inputs.entrySet()) {
                Path p = real(absolute(in.getValue()));
                String why = real.equals(p) ? "is" : real.startsWith(p) ? "is inside" : p.startsWith(real) ? "contains" : null;
                if (why != null) {
                    throw new RoutecalException("--out " + out + " " + why + " the input " + in.getKey().split(" ")[0] + " " + in.getValue()
                            + "; writing (or --overwrite replacing) it could destroy the input: choose another --out");
                }
            }
        }

        private OutputDir prepare(Path target, Lock lock) {
            try {
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(target)) {
                    throw new RoutecalException("--out " + out + " exists and is not a directory");
                }
                boolean existing = Files.isDirectory(target) && !isEmpty(target);
                boolean resumed = false;
                if (existing) {
                    Marker m = Marker.read(target);
                    if (m == null) {
                        throw new RoutecalException("--out " + out + " is not empty and was not made by routecal (no " + MARKER
                                + " marker); refusing to write into it or delete it, even with --overwrite: choose another --out");
                    }
                    if (m.command() != null && !m.command().equals(command)) {
                        throw new RoutecalException("--out " + out + " holds the output of `routecal " + m.command() + "`; `" + command
                                + "` never replaces another command's output: choose another --out");
                    }
                    String state = Files.isRegularFile(target.resolve(MANIFEST)) ? "a finished " + command + " run" : "an unfinished " + command + " run";
                    if (resume && !overwrite) {
                        resumed = true;
                    } else if (!overwrite) {
                        throw new RoutecalException("--out " + out + " holds " + state + "; pass --overwrite to replace it or choose another --out");
                    }
                }
                removeLeftovers(target);
                String runId = UUID.randomUUID().toString();
                Path path;
                if (staged) {
                    path = AtomicFiles.tempDirectory(target);
                } else {
                    if (existing && !resumed) clearContents(target);
                    Files.createDirectories(target);
                    path = target;
                }
                if (!resumed) Marker.write(path, command, runId);
                return new OutputDir(target, path, command, resumed ? Marker.read(target).runId() : runId, lock, resumed);
            } catch (IOException e) {
                throw new RoutecalException("--out " + out + ": cannot prepare the output directory: " + e.getMessage(), e);
            }
        }
    }

    /** Where to write: {@code --out} itself, or the staging directory of a staged output. */
    public Path path() { return path; }

    /** {@code --out} (absolute). */
    public Path target() { return target; }

    public String command() { return command; }

    /** The run's id, as in the marker. */
    public String runId() { return runId; }

    /** Whether an earlier run of the same command was continued ({@link Builder#resume}). */
    public boolean resumed() { return resumed; }

    /** A file in the output directory; nested names ("plots/layer3.html") get their parent created. */
    public Path file(String name) {
        Path p = path.resolve(name).normalize();
        if (!p.startsWith(path) || p.equals(path)) throw new IllegalArgumentException("file name '" + name + "' leaves the output directory");
        try {
            Files.createDirectories(p.getParent());
        } catch (IOException e) {
            throw new RoutecalException(p.getParent() + ": cannot create directory: " + e.getMessage(), e);
        }
        return p;
    }

    /** Writes {@value #MANIFEST} atomically: the run is complete once it is there. */
    public void writeManifest(Manifest manifest) { manifest.write(path.resolve(MANIFEST)); }

    /** Staged: renames the staging directory onto {@code --out}. In place: nothing to do. Then releases the lock. */
    public void commit() {
        if (done) return;
        try {
            if (!path.equals(target)) AtomicFiles.commitDirectory(path, target);
            done = true;
        } catch (IOException e) {
            throw new RoutecalException(target + ": cannot move the finished output into place: " + e.getMessage(), e);
        } finally {
            if (done) lock.close();
        }
    }

    /** Releases the lock; a staged output that was not committed is deleted (the old {@code --out} is untouched). */
    @Override
    public void close() {
        if (!done && !path.equals(target)) AtomicFiles.deleteTree(path);
        done = true;
        lock.close();
    }

    /**
     * Requires a complete run of {@code command} in {@code dir}, for readers: the directory, our marker (or, from
     * routecal before markers carried the command, none) and {@value #MANIFEST} must be there.
     */
    public static Manifest requireComplete(Path dir, String command, String flag) {
        Path d = absolute(dir);
        if (!Files.isDirectory(d)) throw new RoutecalException(flag + " " + dir + ": directory not found");
        Path manifest = d.resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            throw new RoutecalException(flag + " " + dir + ": no " + MANIFEST + ": not a finished `routecal " + command
                    + "` run (still running, or interrupted? rerun it with --overwrite)");
        }
        Manifest m = Manifest.read(manifest);
        if (!m.command().equals(command)) {
            throw new RoutecalException(flag + " " + dir + ": holds the output of `routecal " + m.command() + "`, expected `routecal " + command + "`");
        }
        return m;
    }

    /** Holds the lock of an existing directory (e.g. bracket adding files to a finished route run). */
    public static Lock lock(Path dir, String command) { return Lock.acquire(absolute(dir), command); }

    static Path absolute(Path p) { return p.toAbsolutePath().normalize(); }

    /** The path with symlinks resolved as far as it exists (the rest appended), so aliases of one directory compare equal. */
    static Path real(Path abs) {
        Path existing = abs;
        List<Path> rest = new ArrayList<>();
        while (existing != null && !Files.exists(existing)) {
            rest.add(0, existing.getFileName());
            existing = existing.getParent();
        }
        if (existing == null) return abs;
        try {
            Path r = existing.toRealPath();
            for (Path part : rest) r = r.resolve(part);
            return r;
        } catch (IOException e) {
            return abs;
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) { return s.findAny().isEmpty(); }
    }

    private static void clearContents(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) AtomicFiles.deleteTree(p);
        }
        if (!isEmpty(dir)) throw new IOException("could not delete everything in " + dir);
    }

    /** Hidden staging and swap directories of killed earlier runs of this output (under our lock, so nobody uses them). */
    private static void removeLeftovers(Path target) throws IOException {
        Path parent = target.getParent();
        if (parent == null || !Files.isDirectory(parent)) return;
        try (Stream<Path> s = Files.list(parent)) {
            for (Path p : s.filter(p -> AtomicFiles.isTempOf(p, target) && Files.isDirectory(p)).toList()) {
                if (Marker.read(p) != null || p.getFileName().toString().contains(".old-")) AtomicFiles.deleteTree(p);
            }
        }
    }

    /** The ownership marker; {@code command} and {@code runId} are null in the plain-text marker of older routecal. */
    record Marker(String command, String runId) {
        static void write(Path dir, String command, String runId) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("format", MARKER_FORMAT);
            m.put("format_version", 1);
            m.put("command", command);
            m.put("run_id", runId);
            m.put("created", Instant.now().toString());
            m.put("pid", ProcessHandle.current().pid());
            AtomicFiles.writeJson(dir.resolve(MARKER), m);
        }

        /** The marker of {@code dir}, or null when it has none. */
        static Marker read(Path dir) {
            Path f = dir.resolve(MARKER);
            if (!Files.isRegularFile(f)) return null;
            try {
                String text = Files.readString(f, StandardCharsets.UTF_8);
                if (!text.strip().startsWith("{")) return new Marker(null, null); // "created by routecal": an older run of ours
                JsonNode n = Json.MAPPER.readTree(text);
                if (!MARKER_FORMAT.equals(n.path("format").asText())) return null;
                return new Marker(n.path("command").asText(null), n.path("run_id").asText(null));
            } catch (IOException e) {
                // a marker cut short by a crash while being written: only we write this name
                return new Marker(null, null);
            }
        }
    }

    /**
     * The writer lock of one output: {@code .<name>.lock} beside it, held with an OS lock (released by the OS when the
     * process dies) and holding {@code {"pid", "command", "started"}} for the message a second writer gets.
     *
     * <p>Two traps of POSIX record locks shape it. Closing any descriptor of the file drops every lock this process
     * holds on it, so the file is never opened a second time while held: locks held in this process are looked up in
     * {@link #HELD} first. And the holder deletes the file when it is done, so whoever locks a file must check that it
     * is still the one at the path (same file key before opening and after locking), or retry.
     */
    public static final class Lock implements AutoCloseable {
        /** Lock files held by this process → the owner's description. */
        private static final Map<Path, String> HELD = new java.util.concurrent.ConcurrentHashMap<>();

        private final Path file;
        private final FileChannel channel;
        private final FileLock osLock;
        private boolean released;

        private Lock(Path file, FileChannel channel, FileLock osLock) {
            this.file = file;
            this.channel = channel;
            this.osLock = osLock;
        }

        static Lock acquire(Path target, String command) {
            Path file = real(target.resolveSibling("." + target.getFileName() + ".lock"));
            String owner = "pid " + ProcessHandle.current().pid() + ", this process, `routecal " + command + "` since " + Instant.now();
            String other = HELD.putIfAbsent(file, owner);
            if (other != null) throw busy(target, other);
            try {
                return lockFile(target, file, command);
            } catch (RuntimeException | Error e) {
                HELD.remove(file);
                throw e;
            }
        }

        private static Lock lockFile(Path target, Path file, String command) {
            for (int attempt = 0; attempt < 10; attempt++) {
                FileChannel ch = null;
                try {
                    Files.createDirectories(file.getParent());
                    Object before = fileKey(file);
                    ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                    FileLock l = ch.tryLock();
                    if (l == null) {
                        ch.close(); // no lock of ours on this file in this process (HELD), so closing drops nothing
                        throw busy(target, describeOwner(file));
                    }
                    Object after = fileKey(file);
                    if (before == null || !before.equals(after)) { // created just now, or replaced meanwhile: look again
                        l.release();
                        ch.close();
                        continue;
                    }
                    String owner = Json.MAPPER.writeValueAsString(Map.of("pid", ProcessHandle.current().pid(), "command", command,
                            "started", Instant.now().toString())) + "\n";
                    ch.truncate(0);
                    ch.write(ByteBuffer.wrap(owner.getBytes(StandardCharsets.UTF_8)), 0);
                    ch.force(false);
                    return new Lock(file, ch, l);
                } catch (IOException e) {
                    closeQuietly(ch);
                    throw new RoutecalException(target + ": cannot take the output lock " + file + ": " + e.getMessage(), e);
                } catch (RuntimeException e) {
                    closeQuietly(ch);
                    throw e;
                }
            }
            throw new RoutecalException(target + ": the output lock " + file + " keeps changing hands; is another routecal run starting?");
        }

        private static RoutecalException busy(Path target, String owner) {
            return new RoutecalException(target + " is being written by another routecal run (" + owner
                    + "); wait for it to finish or choose another --out");
        }

        private static Object fileKey(Path file) throws IOException {
            try {
                return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
            } catch (NoSuchFileException e) {
                return null;
            }
        }

        /** The owner written in a lock file another process holds (reading it cannot drop a lock of ours: we hold none). */
        private static String describeOwner(Path file) {
            try {
                JsonNode n = Json.MAPPER.readTree(Files.readString(file, StandardCharsets.UTF_8));
                return "pid " + n.path("pid").asLong(-1) + ", `routecal " + n.path("command").asText("?") + "` since " + n.path("started").asText("?");
            } catch (IOException | RuntimeException e) {
                return "lock file " + file;
            }
        }

        private static void closeQuietly(FileChannel ch) {
            if (ch == null) return;
            try { ch.close(); } catch (IOException ignored) { /* nothing held */ }
        }

        /** Deletes the lock file and releases the lock. */
        @Override
        public void close() {
            if (released) return;
            released = true;
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a leftover lock file is harmless: the next run takes it over
            }
            try {
                osLock.release();
            } catch (IOException ignored) {
                // closing the channel releases it too
            }
            closeQuietly(channel);
            HELD.remove(file);
        }
    }

    @Override
    public String toString() { return target.toString(); }
}
