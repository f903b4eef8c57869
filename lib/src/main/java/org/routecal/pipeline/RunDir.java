package org.routecal.pipeline;

import org.routecal.RoutecalException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The output directory of one stage run: every artifact, plus {@code manifest.json}. A hidden marker file
 * {@code .routecal-run} is written at creation so that {@code --overwrite} only ever deletes directories that a
 * routecal run created (even one that crashed before its manifest) and never an unrelated directory.
 */
public final class RunDir {
    public static final String MANIFEST = "manifest.json";
    static final String MARKER = ".routecal-run";

    private final Path path;

    private RunDir(Path path) { this.path = path; }

    /**
     * Creates {@code out} (and parents). An existing non-empty directory is refused unless {@code overwrite}; with
     * {@code overwrite} its contents are deleted, but only if it is a routecal run directory.
     */
    public static RunDir create(Path out, boolean overwrite) {
        Path dir = out.toAbsolutePath().normalize();
        try {
            if (Files.exists(dir) && !Files.isDirectory(dir)) throw new RoutecalException(out + ": exists and is not a directory");
            if (Files.isDirectory(dir) && !isEmpty(dir)) {
                if (!overwrite) throw new RoutecalException(out + ": output directory exists and is not empty; pass --overwrite or choose another --out");
                if (!isRunDir(dir)) {
                    throw new RoutecalException(out + ": not a routecal run directory (no " + MANIFEST + " or " + MARKER + "); refusing to delete it even with --overwrite");
                }
                clear(dir);
            }
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(MARKER), "created by routecal\n");
        } catch (IOException e) {
            throw new RoutecalException(out + ": cannot create output directory: " + e.getMessage(), e);
        }
        return new RunDir(dir);
    }

    /** An existing run directory, e.g. the output of an earlier stage used as input. */
    public static RunDir openExisting(Path dir) {
        Path d = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(d)) throw new RoutecalException(dir + ": run directory not found");
        if (!isRunDir(d)) throw new RoutecalException(dir + ": not a routecal run directory (no " + MANIFEST + ")");
        return new RunDir(d);
    }

    public Path path() { return path; }

    /** A file in the run directory; nested names ("plots/layer3.html") get their parent created. */
    public Path file(String name) {
        Path p = path.resolve(name).normalize();
        if (!p.startsWith(path) || p.equals(path)) throw new IllegalArgumentException("file name '" + name + "' leaves the run directory");
        try {
            Files.createDirectories(p.getParent());
        } catch (IOException e) {
            throw new RoutecalException(p.getParent() + ": cannot create directory: " + e.getMessage(), e);
        }
        return p;
    }

    /** Whether {@code name} exists in the run directory. */
    public boolean has(String name) { return Files.exists(path.resolve(name)); }

    /** Writes the manifest atomically to manifest.json. */
    public void writeManifest(Manifest manifest) { manifest.write(path.resolve(MANIFEST)); }

    /** Reads manifest.json (a clear error if absent or of an unsupported version). */
    public Manifest manifest() {
        Path m = path.resolve(MANIFEST);
        if (!Files.isRegularFile(m)) throw new RoutecalException(path + ": no " + MANIFEST + " (the run did not finish?)");
        return Manifest.read(m);
    }

    private static boolean isRunDir(Path dir) {
        return Files.isRegularFile(dir.resolve(MANIFEST)) || Files.isRegularFile(dir.resolve(MARKER));
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) { return s.findAny().isEmpty(); }
    }

    private static void clear(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                if (!p.equals(dir)) Files.delete(p);
            }
        }
    }

    @Override
    public String toString() { return path.toString(); }
}
