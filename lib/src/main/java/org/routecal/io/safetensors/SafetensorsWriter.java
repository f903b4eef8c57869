package org.routecal.io.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Streaming, sharded, crash-safe safetensors writer.
 *
 * <p>Each added tensor is appended at once to a per-shard data file in a hidden temp directory, so memory holds one
 * tensor at a time. A shard is sealed when the next tensor would push it past {@code maxShardBytes} (a tensor bigger
 * than that gets a shard of its own, as in transformers): its header is then known, and the shard file is assembled
 * as u64 header length + JSON header (spaces pad it to a multiple of 8, like the reference) + data, and the data file
 * deleted — peak extra disk is one shard. Shard names need the final count, so {@link #close()} renames them to
 * {@code model-00001-of-0000N.safetensors} and writes {@code model.safetensors.index.json}
 * ({@code {"metadata": {"total_size": bytes}, "weight_map": {name: file}}}, names sorted) last; a single shard
 * becomes {@code model.safetensors} with no index. Until close nothing visible changes in the target, so a killed
 * process leaves only the temp directory. Old checkpoint files in the target are replaced (a stale index is removed
 * first, so the directory never mixes two checkpoints).
 *
 * <p>{@link #close()} commits. Code that may fail between adds should use {@link #write(Path, long, Map, Consumer)}
 * or call {@link #abort()} on failure, so an exception does not commit a partial checkpoint.
 * The {@code __metadata__} string map goes into every shard, as transformers does with {"format": "pt"}.
 */
public final class SafetensorsWriter implements AutoCloseable {
    private static final ObjectMapper JSON = Json.MAPPER;

    private final Path target;        // checkpoint dir, or the single output file
    private final boolean singleFile;
    private final long maxShardBytes;
    private final Map<String, String> metadata;
    private final Path tmpDir;
    private final Set<String> names = new HashSet<>();
    private final List<Path> sealed = new ArrayList<>();
    private final Map<String, Integer> shardOf = new TreeMap<>(); // name → shard index, sorted for the index file
    private long totalBytes;
    private Shard current;
    private boolean closed;

    /** One open shard: its header entries so far and its data file. */
    private static final class Shard {
        final Map<String, Object> header = new LinkedHashMap<>();
        final Path dataPath;
        final FileChannel data;
        long bytes;

        Shard(Path dataPath) throws IOException {
            this.dataPath = dataPath;
            this.data = FileChannel.open(dataPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
    }

    private SafetensorsWriter(Path target, boolean singleFile, long maxShardBytes, Map<String, String> metadata) {
        this.target = target.toAbsolutePath().normalize();
        this.singleFile = singleFile;
        this.maxShardBytes = maxShardBytes;
        this.metadata = metadata == null ? Map.of() : new LinkedHashMap<>(metadata);
        try {
            // the temp directory sits beside a single file, inside a checkpoint directory (shards are renamed out of it)
            Files.createDirectories(singleFile ? this.target.getParent() : this.target);
            this.tmpDir = AtomicFiles.tempDirectory(singleFile ? this.target : this.target.resolve(this.target.getFileName()));
        } catch (IOException e) {
            throw new RoutecalException(target + ": cannot create output directory: " + e.getMessage(), e);
        }
    }

    /** A checkpoint directory, sharded at {@code maxShardBytes} of tensor data per file. */
    public static SafetensorsWriter sharded(Path dir, long maxShardBytes, Map<String, String> metadata) {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("maxShardBytes must be > 0");
        return new SafetensorsWriter(dir, false, maxShardBytes, metadata);
    }

    /** One .safetensors file (no sharding), written to a temp file and renamed into place on close. */
    public static SafetensorsWriter toFile(Path file, Map<String, String> metadata) {
        return new SafetensorsWriter(file, true, Long.MAX_VALUE, metadata);
    }

    /** Writes a sharded checkpoint with {@code body}; commits if it returns, aborts (nothing left behind) if it throws. */
    public static void write(Path dir, long maxShardBytes, Map<String, String> metadata, Consumer<SafetensorsWriter> body) {
        SafetensorsWriter w = sharded(dir, maxShardBytes, metadata);
        try {
            body.accept(w);
        } catch (RuntimeException | Error e) {
            w.abort();
            throw e;
        }
        w.close();
    }

    /** Adds a tensor from its raw little-endian bytes; {@code data.length} must equal shape × dtype size. */
    public void add(String name, DType dtype, long[] shape, byte[] data) {
        add(name, dtype, shape, ByteBuffer.wrap(data));
    }

    /** As {@link #add(String, DType, long[], byte[])} from the remaining bytes of a buffer (e.g. a mapped tensor). */
    public void add(String name, DType dtype, long[] shape, ByteBuffer data) {
        if (closed) throw new IllegalStateException("writer for " + target + " is closed");
        if (name.equals("__metadata__") || names.contains(name)) throw new RoutecalException(target + ": tensor '" + name + "' added twice (or reserved name)");
        long expected = Math.multiplyExact(TensorInfo.elementCount(shape), dtype.byteSize());
        if (data.remaining() != expected) {
            throw new RoutecalException(target + ": tensor '" + name + "': " + data.remaining() + " bytes given but shape "
                    + java.util.Arrays.toString(shape) + " × " + dtype + " needs " + expected);
        }
        names.add(name);
        try {
            if (current != null && current.bytes > 0 && current.bytes + expected > maxShardBytes) seal();
            if (current == null) current = new Shard(tmpDir.resolve("shard-" + sealed.size() + ".data"));
            ByteBuffer src = data.duplicate();
            while (src.hasRemaining()) current.data.write(src);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", dtype.safetensorsName());
            entry.put("shape", shape.clone());
            entry.put("data_offsets", new long[] {current.bytes, current.bytes + expected});
            current.header.put(name, entry);
            current.bytes += expected;
            totalBytes += expected;
            shardOf.put(name, sealed.size());
        } catch (IOException e) {
            abort();
            throw new RoutecalException(target + ": writing tensor '" + name + "' failed: " + e.getMessage(), e);
        }
    }

    /** Adds float values encoded as {@code dtype} (BF16 round-to-nearest-even, F16, F32 or F8_E4M3 saturating). */
    public void addFloat(String name, DType dtype, long[] shape, float[] data) {
        if (!dtype.isFloat()) throw new RoutecalException(target + ": tensor '" + name + "': addFloat needs a float dtype, got " + dtype);
        add(name, dtype, shape, DTypeCodec.encode(data, dtype));
    }

    /** Adds int values as I32. */
    public void addInt(String name, long[] shape, int[] data) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(data);
        add(name, DType.I32, shape, b);
    }

    /** Adds long values as I64. */
    public void addLong(String name, long[] shape, long[] data) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(data);
        add(name, DType.I64, shape, b);
    }

    /** Header + data → {@code shard-i.safetensors} in the temp dir. */
    private void seal() throws IOException {
        Shard s = current == null ? new Shard(tmpDir.resolve("shard-" + sealed.size() + ".data")) : current;
        current = s;
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put("__metadata__", metadata);
        header.putAll(s.header);
        byte[] json = JSON.writeValueAsBytes(header);
        int pad = (8 - json.length % 8) % 8;
        ByteBuffer head = ByteBuffer.allocate(8 + json.length + pad).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(json.length + pad).put(json);
        for (int i = 0; i < pad; i++) head.put((byte) ' ');
        head.flip();
        Path out = tmpDir.resolve("shard-" + sealed.size() + ".safetensors");
        try (FileChannel o = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (head.hasRemaining()) o.write(head);
            long pos = 0;
            while (pos < s.bytes) pos += s.data.transferTo(pos, s.bytes - pos, o);
            o.force(true);
        }
        s.data.close();
        Files.delete(s.dataPath);
        current = null;
        sealed.add(out);
    }

    /** Seals the last shard and moves the checkpoint into place. */
    @Override
    public void close() {
        if (closed) return;
        try {
            if (current != null || sealed.isEmpty()) seal();
            closed = true;
            if (singleFile) {
                AtomicFiles.commit(sealed.get(0), target);
            } else {
                commitDir();
            }
            AtomicFiles.deleteTree(tmpDir);
        } catch (IOException e) {
            abort();
            throw new RoutecalException(target + ": finishing safetensors checkpoint failed: " + e.getMessage(), e);
        }
    }

    private void commitDir() throws IOException {
        int n = sealed.size();
        Files.deleteIfExists(target.resolve(SafetensorsCheckpoint.INDEX_FILE));
        Set<String> written = new HashSet<>();
        if (n == 1) {
            AtomicFiles.commit(sealed.get(0), target.resolve(SafetensorsCheckpoint.SINGLE_FILE));
            written.add(SafetensorsCheckpoint.SINGLE_FILE);
        } else {
            String[] shardNames = new String[n];
            for (int i = 0; i < n; i++) {
                shardNames[i] = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
                AtomicFiles.commit(sealed.get(i), target.resolve(shardNames[i]));
                written.add(shardNames[i]);
            }
            Map<String, Object> index = new LinkedHashMap<>();
            index.put("metadata", Map.of("total_size", totalBytes));
            Map<String, String> weightMap = new LinkedHashMap<>();
            shardOf.forEach((name, i) -> weightMap.put(name, shardNames[i]));
            index.put("weight_map", weightMap);
            AtomicFiles.writeJson(target.resolve(SafetensorsCheckpoint.INDEX_FILE), index);
            written.add(SafetensorsCheckpoint.INDEX_FILE);
        }
        // Shards of an older checkpoint that this one did not overwrite.
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(target, "model*.safetensors")) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                if (!written.contains(f) && (f.equals(SafetensorsCheckpoint.SINGLE_FILE) || f.matches("model-\\d{5}-of-\\d{5}\\.safetensors"))) Files.delete(p);
            }
        }
    }

    /** Discards everything written so far; the target is left as it was. */
    public void abort() {
        closed = true;
        if (current != null) {
            try { current.data.close(); } catch (IOException ignored) { /* deleting anyway */ }
            current = null;
        }
        AtomicFiles.deleteTree(tmpDir);
    }
}
