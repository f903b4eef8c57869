package org.routecal.pipeline;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What a stage run did, written as {@code manifest.json} by every stage (the one manifest mechanism): the command, its
 * inputs (path, bytes, sha256), its parameters, the seed, tool versions, per-phase timings, its results (counts and
 * summary numbers of the run) and its outputs.
 *
 * <pre>{"format": "routecal.manifest", "format_version": 1, "command": "route", "created": ISO-8601 UTC,
 *  "seed": 42 | null, "parameters": {...}, "versions": {"routecal", "java", "os", ...},
 *  "timings_s": {"phase": seconds, ...}, "results": {...},
 *  "inputs":  [{"role", "path", "bytes", "sha256" | null}, ...],
 *  "outputs": [{"role", "path", "bytes", "sha256"}, ...]}</pre>
 *
 * Secrets never reach disk: a text parameter whose key has the word key, token, secret or password in it (snake_case,
 * kebab-case or camelCase words: {@code api_key}, {@code hfToken}, {@code client-secret}) is written as
 * {@value #REDACTED}, also inside nested maps. Only text values can be secrets, so numbers such as
 * {@code min_gain_per_token} stay visible; matching whole words keeps {@code max_tokens_per_sample} visible too.
 */
public record Manifest(String command, String created, Long seed, Map<String, Object> parameters, Map<String, String> versions,
                       Map<String, Double> timings, Map<String, Object> results, List<FileEntry> inputs, List<FileEntry> outputs) {
    public static final String FORMAT = "routecal.manifest";
    public static final int FORMAT_VERSION = 1;
    /** Oldest manifest version this reader understands. */
    public static final int MIN_FORMAT_VERSION = 1;
    public static final String REDACTED = "<redacted>";
    private static final Set<String> SECRET_WORDS = Set.of("key", "apikey", "token", "secret", "password", "passwd");
    private static final ObjectMapper JSON = Json.MAPPER;

    /** One input or output file; {@code sha256} is null for inputs recorded without hashing. */
    public record FileEntry(String role, String path, long bytes, String sha256) {}

    public static Builder builder(String command) { return new Builder(command); }

    /** Values that belong under "results" when handed over in a mixed map (see {@link Builder#add}). */
    public record Results(Map<String, ?> values) {}

    /** Collects a manifest while a stage runs. Not thread-safe. */
    public static final class Builder {
        private final String command;
        private Long seed;
        private final Map<String, Object> parameters = new LinkedHashMap<>();
        private final Map<String, String> versions = new LinkedHashMap<>();
        private final Map<String, Double> timings = new LinkedHashMap<>();
        private final Map<String, Object> results = new LinkedHashMap<>();
        private final List<FileEntry> inputs = new ArrayList<>();
        private final List<FileEntry> outputs = new ArrayList<>();

        private Builder(String command) {
            this.command = command;
            String v = Manifest.class.getPackage().getImplementationVersion();
            versions.put("routecal", v == null ? "dev" : v);
            versions.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")");
            versions.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        }

        /** An input file, or every file under a directory (sorted), hashed with SHA-256. */
        public Builder input(String role, Path path) { return input(role, path, true); }

        /** As {@link #input(String, Path)}; {@code hash=false} records sizes only (e.g. a 60 GB checkpoint). */
        public Builder input(String role, Path path, boolean hash) {
            for (Path f : files(path)) inputs.add(entry(role, f, f.toAbsolutePath().normalize().toString(), hash));
            return this;
        }

        /**
         * A model directory as inputs: {@code config.json} hashed, the weight files ({@code *.safetensors}) recorded by
         * size only (tens of GB for real models; the route stage's fingerprint identifies them).
         */
        public Builder model(String role, Path modelDir) {
            if (modelDir == null || !Files.isDirectory(modelDir)) return this;
            Path config = modelDir.resolve("config.json");
            if (Files.isRegularFile(config)) input(role + "_config", config);
            try (Stream<Path> s = Files.list(modelDir)) {
                for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList()) input(role + "_weights", p, false);
            } catch (IOException e) {
                throw new RoutecalException(modelDir + ": cannot list: " + e.getMessage(), e);
            }
            return this;
        }

        /** An output file (or directory of files), hashed; paths inside {@code base} are stored relative to it. */
        public Builder output(String role, Path path, Path base) { return output(role, path, base, true); }

        /** As {@link #output(String, Path, Path)}; {@code hash=false} records the size only (checkpoint shards). */
        public Builder output(String role, Path path, Path base, boolean hash) {
            Path b = base == null ? null : base.toAbsolutePath().normalize();
            for (Path f : files(path)) {
                Path abs = f.toAbsolutePath().normalize();
                String shown = b != null && abs.startsWith(b) ? b.relativize(abs).toString() : abs.toString();
                outputs.add(entry(role, f, shown, hash));
            }
            return this;
        }

        /**
         * Every regular file directly in {@code dir} (not hidden, not a manifest), relative to it; safetensors shards
         * are recorded by size only (hashing gigabytes of weights would add minutes).
         */
        public Builder outputsIn(Path dir) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.sorted().toList()) {
                    String name = p.getFileName().toString();
                    if (Files.isRegularFile(p) && !name.startsWith(".") && !name.startsWith("manifest")) output(name, p, dir, !name.endsWith(".safetensors"));
                }
            } catch (IOException e) {
                throw new RoutecalException(dir + ": cannot list outputs: " + e.getMessage(), e);
            }
            return this;
        }

        /** A result of the run (a count, a summary number, a list of warnings); written under "results". */
        public Builder result(String key, Object value) {
            results.put(key, value instanceof Path p ? p.toString() : value);
            return this;
        }

        public Builder results(Map<String, ?> values) {
            values.forEach(this::result);
            return this;
        }

        /**
         * Entries a command hands to its stage for the manifest, sorted by type: a {@link Path} is an input (hashed),
         * {@link Results} go under results, anything else is a parameter.
         */
        public Builder add(Map<String, ?> entries) {
            entries.forEach((k, v) -> {
                if (v instanceof Path p) input(k, p);
                else if (v instanceof Results r) results(r.values());
                else parameter(k, v);
            });
            return this;
        }

        public Builder parameter(String key, Object value) {
            parameters.put(key, redact(key, value));
            return this;
        }

        public Builder parameters(Map<String, ?> values) {
            values.forEach(this::parameter);
            return this;
        }

        public Builder seed(long seed) { this.seed = seed; return this; }

        /** What the run computed on: device kind, name, driver, memory, why it was chosen, and the numerics. */
        public Builder device(org.routecal.compute.Backend backend) {
            parameters.put("device", backend.device().toManifest());
            parameters.put("precision", backend.precision().id());
            return this;
        }

        /** An extra version entry (e.g. "model_revision", "cuda"). */
        public Builder version(String name, String value) { versions.put(name, value); return this; }

        /** Adds {@code seconds} to a phase's total. */
        public Builder timing(String phase, double seconds) { timings.merge(phase, seconds, Double::sum); return this; }

        /** Times a phase: {@code try (var t = manifest.phase("forward")) { ... }}. */
        public Phase phase(String name) { return new Phase(this, name, System.nanoTime()); }

        public Manifest build() {
            return new Manifest(command, Instant.now().toString(), seed, Collections.unmodifiableMap(new LinkedHashMap<>(parameters)),
                    Map.copyOf(versions), Collections.unmodifiableMap(new LinkedHashMap<>(timings)),
                    Collections.unmodifiableMap(new LinkedHashMap<>(results)), List.copyOf(inputs), List.copyOf(outputs));
        }

        private static List<Path> files(Path path) {
            if (Files.isRegularFile(path)) return List.of(path);
            if (!Files.isDirectory(path)) throw new RoutecalException(path + ": not found (manifest entry)");
            try (Stream<Path> s = Files.walk(path)) {
                return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
            } catch (IOException e) {
                throw new RoutecalException(path + ": cannot list: " + e.getMessage(), e);
            }
        }

        private static FileEntry entry(String role, Path f, String shown, boolean hash) {
            try {
                return new FileEntry(role, shown, Files.size(f), hash ? Sha256.of(f) : null);
            } catch (IOException e) {
                throw new RoutecalException(f + ": cannot stat: " + e.getMessage(), e);
            }
        }
    }

    /** A running phase timer; closing it adds the elapsed time to the builder's timings. */
    public static final class Phase implements AutoCloseable {
        private final Builder builder;
        private final String name;
        private final long startNanos;

        private Phase(Builder builder, String name, long startNanos) {
            this.builder = builder;
            this.name = name;
            this.startNanos = startNanos;
        }

        @Override public void close() { builder.timing(name, (System.nanoTime() - startNanos) / 1e9); }
    }

    /** Whether a parameter key names a secret (word match, see the class comment). */
    public static boolean isSecretKey(String key) {
        String words = key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
        for (String w : words.split("[^a-z0-9]+")) if (SECRET_WORDS.contains(w)) return true;
        return false;
    }

    private static Object redact(String key, Object value) {
        if (isSecretKey(key) && (value instanceof CharSequence || value instanceof char[])) return REDACTED;
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), redact(String.valueOf(k), v)));
            return out;
        }
        if (value instanceof Path p) return p.toString();
        return value;
    }

    /** Writes atomically (temp file + rename). */
    public void write(Path file) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", FORMAT);
        root.put("format_version", FORMAT_VERSION);
        root.put("command", command);
        root.put("created", created);
        root.put("seed", seed);
        root.put("parameters", parameters);
        root.put("versions", versions);
        root.put("timings_s", timings);
        root.put("results", results);
        root.put("inputs", inputs);
        root.put("outputs", outputs);
        AtomicFiles.writeJson(file, root);
    }

    /** Reads a manifest, checking {@code format} and that {@code format_version} is in [MIN_FORMAT_VERSION, FORMAT_VERSION]. */
    public static Manifest read(Path file) {
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new RoutecalException(file + ": not valid JSON (truncated?): " + e.getMessage());
        }
        if (n == null || !FORMAT.equals(n.path("format").asText(null))) {
            throw new RoutecalException(file + ": not a routecal manifest (format=" + (n == null ? null : n.path("format").asText(null)) + ", expected " + FORMAT + ")");
        }
        int v = n.path("format_version").asInt(-1);
        if (v > FORMAT_VERSION) throw new RoutecalException(file + ": manifest format_version " + v + " is newer than this routecal reads (≤ " + FORMAT_VERSION + "); upgrade routecal");
        if (v < MIN_FORMAT_VERSION) throw new RoutecalException(file + ": manifest format_version " + v + " is older than this routecal reads (≥ " + MIN_FORMAT_VERSION + ")");
        try {
            return new Manifest(n.path("command").asText(), n.path("created").asText(null), n.hasNonNull("seed") ? n.get("seed").asLong() : null,
                    JSON.convertValue(n.path("parameters"), new TypeReference<LinkedHashMap<String, Object>>() {}),
                    JSON.convertValue(n.path("versions"), new TypeReference<LinkedHashMap<String, String>>() {}),
                    JSON.convertValue(n.path("timings_s"), new TypeReference<LinkedHashMap<String, Double>>() {}),
                    n.has("results") ? JSON.convertValue(n.path("results"), new TypeReference<LinkedHashMap<String, Object>>() {}) : Map.of(),
                    JSON.convertValue(n.path("inputs"), new TypeReference<List<FileEntry>>() {}),
                    JSON.convertValue(n.path("outputs"), new TypeReference<List<FileEntry>>() {}));
        } catch (IllegalArgumentException e) {
            throw new RoutecalException(file + ": malformed manifest field: " + e.getMessage());
        }
    }

    /** The inputs with a given role. */
    public List<FileEntry> inputs(String role) { return inputs.stream().filter(e -> e.role().equals(role)).toList(); }
}
