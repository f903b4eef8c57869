package org.routecal.quant.ct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.model.family.Families;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.io.safetensors.SafetensorsWriter;
import org.routecal.io.safetensors.TensorInfo;
import org.routecal.quant.scheme.QuantizedWeight;

/**
 * Writes a compressed-tensors checkpoint that vLLM loads: quantized modules as {@link CtCodec} tensors (added as soon
 * as each is quantized, so memory holds one module), every other source tensor copied byte for byte under its source
 * name, sharded safetensors + index, config.json with {@code quantization_config}, and the tokenizer/generation files
 * copied. It writes into a directory it is given: the staging directory of a staged
 * {@link org.routecal.pipeline.OutputDir}, which renames the finished checkpoint onto {@code --out} (so a crash or a
 * failure leaves {@code --out} as it was, and only routecal's own output is ever replaced).
 */
public final class CompressedTensorsWriter implements AutoCloseable {
    /** Shard size of the written checkpoint (transformers' default is 5 GB; vLLM accepts any). */
    public static final long SHARD_BYTES = 4L << 30;
    private static final ObjectMapper JSON = Json.MAPPER;

    private final Path dir;
    private final SafetensorsWriter tensors;
    private final Set<String> quantized = new HashSet<>();
    private final Set<String> skipped = new HashSet<>();   // source tensors commit does not copy
    private boolean done;

    private CompressedTensorsWriter(Path dir, long shardBytes) {
        this.dir = dir.toAbsolutePath().normalize();
        this.tensors = SafetensorsWriter.sharded(this.dir, shardBytes, Map.of("format", "pt"));
    }

    /** A checkpoint written into {@code dir} (an output directory's {@link org.routecal.pipeline.OutputDir#path()}). */
    public static CompressedTensorsWriter into(Path dir) {
        return new CompressedTensorsWriter(dir, SHARD_BYTES);
    }

    /** As {@link #into(Path)} with a given shard size (tests use small shards). */
    public static CompressedTensorsWriter into(Path dir, long shardBytes) {
        return new CompressedTensorsWriter(dir, shardBytes);
    }

    /** Adds one quantized module (module name without ".weight"). */
    public void addQuantized(String module, QuantizedWeight q) {
        for (CtCodec.CtTensor t : CtCodec.encode(module, q)) tensors.add(t.name(), t.dtype(), t.shape(), t.data());
        quantized.add(module);
    }

    /** The directory written into: side outputs (reports, manifest) go here too. */
    public Path dir() {
        return dir;
    }

    /**
     * Adds a plain tensor written in place of source tensors (a packed family's per-expert weights and biases, a
     * weight decoded from FP8 blocks, a norm AWQ folded its scales into); pair it with {@link #skipSource} for what it
     * replaces.
     */
    public void addTensor(String name, org.routecal.io.safetensors.DType dtype, long[] shape, float[] values) {
        tensors.addFloat(name, dtype, shape, values);
    }

    /** A stored source tensor {@link #commit} must not copy (it is written another way, or not at all). */
    public void skipSource(String storedName) {
        skipped.add(storedName);
    }

    /** Modules added so far. */
    public Set<String> quantizedModules() {
        return Set.copyOf(quantized);
    }

    /** Copies the remaining source tensors and writes config.json (the source's plus {@code quantization_config}) and the tokenizer files. */
    public void commit(Path sourceDir, SafetensorsCheckpoint source, CtQuantConfig config) {
        try {
            for (String name : new java.util.TreeSet<>(source.names())) {
                if (name.endsWith(".weight") && quantized.contains(name.substring(0, name.length() - 7))) continue;
                if (skipped.contains(name)) continue;
                TensorInfo info = source.info(name);
                tensors.add(name, info.dtype(), info.shape(), source.readBytes(name));
            }
            tensors.close();
            ObjectNode cfg = (ObjectNode) JSON.readTree(sourceDir.resolve("config.json").toFile());
            addExportDefaults(cfg);
            cfg.set("quantization_config", config.toJson());
            AtomicFiles.writeString(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));
            copySideFiles(sourceDir, dir);
            done = true;
        } catch (IOException e) {
            abort();
            throw new RoutecalException(dir + ": writing the checkpoint failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            abort();
            throw e;
        }
    }

    /**
     * Keys vLLM's loader for this family needs that transformers 5 no longer writes (the family table's
     * exportConfigDefaults, e.g. DeepSeek-V3's scoring_func / topk_method); a key the source has is kept as it is.
     */
    static void addExportDefaults(ObjectNode cfg) {
        JsonNode root = cfg.has("text_config") && !cfg.has("hidden_size") ? cfg.get("text_config") : cfg;
        String type = root.path("model_type").asText("");
        Families.ALL.stream().filter(f -> f.modelTypeMatch(type).isPresent()).findFirst().ifPresent(f ->
                f.exportConfigDefaults().forEach((k, v) -> { if (!root.has(k)) ((ObjectNode) root).putPOJO(k, v); }));
    }

    /** Tokenizer, chat template and generation files are copied as they are; weights and config.json are ours. */
    static void copySideFiles(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                if (!Files.isRegularFile(p) || n.endsWith(".safetensors") || n.equals("model.safetensors.index.json")
                        || n.equals("config.json") || n.startsWith(".")) continue;
                if (n.startsWith("tokenizer") || n.equals("special_tokens_map.json") || n.equals("generation_config.json")
                        || n.startsWith("chat_template") || n.startsWith("vocab") || n.equals("merges.txt")) {
                    Files.copy(p, to.resolve(n), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Stops writing; the output directory discards the staging directory. */
    public void abort() {
        if (done) return;
        done = true;
        try {
            tensors.abort();
        } catch (RuntimeException ignored) {
            // already closed or aborted: the output directory removes the staging tree either way
        }
    }

    /** Aborts unless committed (so try-with-resources never leaves a half-written checkpoint). */
    @Override
    public void close() {
        abort();
    }
}
