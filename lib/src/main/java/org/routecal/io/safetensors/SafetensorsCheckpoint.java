package org.routecal.io.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A safetensors checkpoint: one file, or a directory with {@code model.safetensors}, or a directory with
 * {@code model.safetensors.index.json} naming many shards. Every header is parsed and validated at open (cheap:
 * headers only); tensor data is memory-mapped per read, so a 60 GB checkpoint costs nothing until used.
 * Java 17 maps at most 2 GB at once: whole-tensor reads need a tensor below 2 GB, {@link #readFloatRows} maps only
 * the rows asked for and works at any offset in files of any size. Reads are thread-safe (each maps its own region),
 * so layers can be loaded in parallel.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path source;
    private final Map<String, SafetensorsFile> fileOf;   // tensor name → its shard
    private final Map<Path, SafetensorsFile> files;      // shard path → parsed shard
    private final Map<String, String> metadata;

    private SafetensorsCheckpoint(Path source, Map<String, SafetensorsFile> fileOf, Map<Path, SafetensorsFile> files, Map<String, String> metadata) {
        this.source = source;
        this.fileOf = fileOf;
        this.files = files;
        this.metadata = metadata;
    }

    /**
     * Opens a .safetensors file or a checkpoint directory. A directory with an index is read through the index
     * (which wins over a stray model.safetensors). Metadata is the union of the shards' {@code __metadata__} and the
     * index's {@code metadata} (index values as text; the index wins on a clash).
     */
    public static SafetensorsCheckpoint open(Path fileOrDir) {
        if (Files.isRegularFile(fileOrDir)) {
            SafetensorsFile f = SafetensorsFile.open(fileOrDir);
            Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
            f.tensors.keySet().forEach(n -> fileOf.put(n, f));
            return new SafetensorsCheckpoint(fileOrDir, fileOf, Map.of(fileOrDir, f), f.metadata);
        }
        if (!Files.isDirectory(fileOrDir)) throw new RoutecalException(fileOrDir + ": no such safetensors file or checkpoint directory");
        Path index = fileOrDir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) return openIndexed(fileOrDir, index);
        Path single = fileOrDir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) return open(single);
        throw new RoutecalException(fileOrDir + ": directory has neither " + INDEX_FILE + " nor " + SINGLE_FILE);
    }

    private static SafetensorsCheckpoint openIndexed(Path dir, Path index) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(index.toFile());
        } catch (IOException e) {
            throw new RoutecalException(index + ": not valid JSON: " + e.getMessage());
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) throw new RoutecalException(index + ": missing \"weight_map\" object");
        Map<Path, SafetensorsFile> files = new LinkedHashMap<>();
        Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
        Map<String, String> metadata = new TreeMap<>();
        try {
            for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) weightMap::fields) {
                String tensor = e.getKey();
                if (!e.getValue().isTextual()) throw new RoutecalException(index + ": weight_map entry '" + tensor + "' is not a file name");
                Path shardPath = dir.resolve(e.getValue().asText()).normalize();
                if (!shardPath.startsWith(dir.normalize())) throw new RoutecalException(index + ": weight_map entry '" + tensor + "' points outside the checkpoint: " + e.getValue().asText());
                SafetensorsFile shard = files.get(shardPath);
                if (shard == null) {
                    if (!Files.isRegularFile(shardPath)) {
                        throw new RoutecalException(index + ": shard '" + e.getValue().asText() + "' (holding tensor '" + tensor + "') does not exist");
                    }
                    shard = SafetensorsFile.open(shardPath);
                    files.put(shardPath, shard);
                    metadata.putAll(shard.metadata);
                }
                if (!shard.tensors.containsKey(tensor)) {
                    throw new RoutecalException(index + ": tensor '" + tensor + "' is mapped to " + shardPath.getFileName() + " but that shard does not contain it");
                }
                fileOf.put(tensor, shard);
            }
        } catch (RuntimeException ex) {
            files.values().forEach(SafetensorsFile::close);
            throw ex;
        }
        JsonNode meta = root.get("metadata");
        if (meta != null && meta.isObject()) meta.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().isTextual() ? m.getValue().asText() : m.getValue().toString()));
        return new SafetensorsCheckpoint(dir, fileOf, files, Collections.unmodifiableMap(metadata));
    }

    /** The path given to {@link #open}. */
    public Path source() { return source; }

    /** Tensor names, in header or index order. */
    public Set<String> names() { return Collections.unmodifiableSet(fileOf.keySet()); }

    public boolean contains(String name) { return fileOf.containsKey(name); }

    public TensorInfo info(String name) { return shard(name).tensors.get(name); }

    public Map<String, String> metadata() { return metadata; }

    /** The shard files, in index order. */
    public Set<Path> files() { return Collections.unmodifiableSet(files.keySet()); }

    /** A read-only little-endian mapping of the whole tensor (< 2 GB); zero-copy for callers that decode themselves. */
    public ByteBuffer mapped(String name) {
        TensorInfo t = info(name);
        return shard(name).map(t.dataOffset(), t.byteLength(), name);
    }

    /** The whole tensor as f32, whatever its dtype (integers are converted). Needs fewer than 2^31 elements. */
    public float[] readFloat(String name) {
        TensorInfo t = info(name);
        int n = arrayLength(t, t.elementCount());
        ByteBuffer b = n == 0 ? ByteBuffer.allocate(0) : mapped(name); // map first: it refuses > 2 GB before we allocate
        float[] out = new float[n];
        DTypeCodec.decode(b, t.dtype(), out, 0, n);
        return out;
    }

    /**
     * Rows {@code [firstRow, firstRow+rows)} of the first dimension as f32, {@code rows × rowElements} values
     * row-major. Maps only those rows, so it works for tensors and files of any size.
     */
    public float[] readFloatRows(String name, long firstRow, int rows) {
        TensorInfo t = info(name);
        if (t.rank() == 0) throw new RoutecalException(t.file() + ": tensor '" + name + "' is a scalar; it has no rows");
        if (firstRow < 0 || rows < 0 || firstRow + rows > t.dim(0)) {
            throw new RoutecalException(t.file() + ": tensor '" + name + "': rows [" + firstRow + ", " + (firstRow + rows) + ") outside [0, " + t.dim(0) + ")");
        }
        long rowBytes = t.rowElements() * t.dtype().byteSize();
        int n = arrayLength(t, (long) rows * t.rowElements());
        float[] out = new float[n];
        if (n > 0) {
            ByteBuffer b = shard(name).map(t.dataOffset() + firstRow * rowBytes, (long) rows * rowBytes, name);
            DTypeCodec.decode(b, t.dtype(), out, 0, n);
        }
        return out;
    }

    /** I32 as is; I8 and U8 widened (U8 unsigned). */
    public int[] readInt(String name) {
        TensorInfo t = info(name);
        int n = arrayLength(t, t.elementCount());
        ByteBuffer b = n == 0 ? ByteBuffer.allocate(0) : mapped(name);
        int[] out = new int[n];
        switch (t.dtype()) {
            case I32 -> b.asIntBuffer().get(out);
            case I8 -> { for (int i = 0; i < n; i++) out[i] = b.get(i); }
            case U8 -> { for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xFF; }
            default -> throw new RoutecalException(t.file() + ": tensor '" + name + "' is " + t.dtype() + ", not an integer type readable as int (I32, I8, U8)");
        }
        return out;
    }

    /** I64 as is; I32 widened. */
    public long[] readLong(String name) {
        TensorInfo t = info(name);
        int n = arrayLength(t, t.elementCount());
        ByteBuffer b = n == 0 ? ByteBuffer.allocate(0) : mapped(name);
        long[] out = new long[n];
        switch (t.dtype()) {
            case I64 -> b.asLongBuffer().get(out);
            case I32 -> { for (int i = 0; i < n; i++) out[i] = b.getInt(4 * i); }
            default -> throw new RoutecalException(t.file() + ": tensor '" + name + "' is " + t.dtype() + ", not I64 or I32");
        }
        return out;
    }

    /** The raw little-endian bytes of any tensor below 2 GB. */
    public byte[] readBytes(String name) {
        TensorInfo t = info(name);
        byte[] out = new byte[arrayLength(t, t.byteLength())];
        if (out.length > 0) mapped(name).get(out);
        return out;
    }

    /** Throws naming the tensor and the first bad index when {@code values} holds a NaN or an infinity. */
    public static void checkFinite(String name, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new RoutecalException("tensor '" + name + "': element " + i + " is " + values[i] + " (NaN/Inf in weights or activations)");
            }
        }
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile f = fileOf.get(name);
        if (f == null) throw new RoutecalException(source + ": no tensor named '" + name + "'");
        return f;
    }

    private static int arrayLength(TensorInfo t, long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new RoutecalException(t.file() + ": tensor '" + t.name() + "' has " + n + " elements/bytes, too many for one Java array; read it by rows");
        }
        return (int) n;
    }

    @Override
    public void close() {
        files.values().forEach(SafetensorsFile::close);
    }
}
