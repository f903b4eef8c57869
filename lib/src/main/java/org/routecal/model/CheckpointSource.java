package org.routecal.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.RoutecalException;
import org.routecal.io.safetensors.BlockFp8;
import org.routecal.io.safetensors.DType;
import org.routecal.io.safetensors.DTypeCodec;
import org.routecal.io.safetensors.Mxfp4;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.io.safetensors.TensorInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A {@link TensorSource} over a memory-mapped safetensors checkpoint (single file or sharded with an index), plain or
 * quantized as published: config.json's {@code quantization_config.quant_method} "fp8" (DeepSeek-V3/R1, Kimi K2:
 * {@code weight} F8_E4M3 + {@code weight_scale_inv} per {@code weight_block_size} block) or "mxfp4" (GPT-OSS experts:
 * {@code *_blocks} + {@code *_scales}). Quantized tensors appear under their HF parameter names with their logical
 * shapes and decode on {@link #readFloat}, so the forward pass sees ordinary tensors; {@link #storedForm} names the
 * stored parts for a backend that uploads the encoded bytes. Other quantization methods are refused by name
 * (compressed-tensors checkpoints open with {@code quant.ct.CompressedTensorsReader}).
 */
public final class CheckpointSource implements TensorSource {
    private final SafetensorsCheckpoint checkpoint;
    private final Path dir;
    private final Map<String, StoredForm> encoded;   // logical name → stored parts (quantized tensors only)
    private final Set<String> names;                 // logical names, in stored order

    private CheckpointSource(Path dir, SafetensorsCheckpoint checkpoint, JsonNode quantization) {
        this.dir = dir;
        this.checkpoint = checkpoint;
        Map<String, StoredForm> enc = new LinkedHashMap<>();
        Set<String> hidden = new LinkedHashSet<>();
        String method = quantization == null ? "" : quantization.path("quant_method").asText("");
        switch (method) {
            case "", "compressed-tensors" -> { }
            case "fp8" -> fp8(quantization, enc, hidden);
            case "mxfp4" -> mxfp4(enc, hidden);
            default -> throw new RoutecalException(dir + ": config.json quantization_config.quant_method \"" + method
                    + "\" is not a format routecal decodes (fp8 with weight_block_size, mxfp4, compressed-tensors)");
        }
        Set<String> logical = new LinkedHashSet<>();
        for (String n : checkpoint.names()) {
            if (hidden.contains(n)) continue;
            logical.add(n.endsWith("_blocks") && enc.containsKey(n.substring(0, n.length() - 7)) ? n.substring(0, n.length() - 7) : n);
        }
        this.encoded = Collections.unmodifiableMap(enc);
        this.names = Collections.unmodifiableSet(logical);
    }

    public static CheckpointSource open(Path dir) {
        SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir);
        try {
            return new CheckpointSource(dir, ckpt, quantizationConfig(dir));
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    private static JsonNode quantizationConfig(Path dir) {
        Path cfg = dir.resolve("config.json");
        if (!Files.isDirectory(dir) || !Files.isRegularFile(cfg)) return null;
        try {
            JsonNode q = new ObjectMapper().readTree(Files.readString(cfg)).get("quantization_config");
            return q == null || q.isNull() ? null : q;
        } catch (IOException e) {
            throw new RoutecalException(cfg + ": invalid JSON: " + e.getMessage(), e);
        }
    }

    /** Pairs each {@code X.weight_scale_inv} with its F8_E4M3 {@code X.weight}. */
    private void fp8(JsonNode q, Map<String, StoredForm> enc, Set<String> hidden) {
        JsonNode bs = q.get("weight_block_size");
        int[] block = null;
        if (bs != null && !bs.isNull()) {
            if (!bs.isArray() || bs.size() != 2 || !bs.get(0).canConvertToInt() || bs.get(0).asInt() < 1 || bs.get(1).asInt() < 1) {
                throw new RoutecalException(dir + ": config.json quantization_config.weight_block_size must be [rows, cols] ≥ 1, got " + bs);
            }
            block = new int[]{bs.get(0).asInt(), bs.get(1).asInt()};
        }
        for (String n : checkpoint.names()) {
            if (!n.endsWith(".weight_scale_inv")) continue;
            String weight = n.substring(0, n.length() - "_scale_inv".length());
            if (!checkpoint.contains(weight) || checkpoint.info(weight).dtype() != DType.F8_E4M3) {
                throw new RoutecalException(dir + ": " + n + " has no F8_E4M3 " + weight + " beside it");
            }
            long[] shape = checkpoint.info(weight).shape();
            int[] b = block != null ? block : new int[]{(int) shape[shape.length - 2], (int) shape[shape.length - 1]};
            enc.put(weight, new StoredForm(StoredForm.Encoding.FP8_BLOCK, Map.of("values", weight, "scales", n), b));
            hidden.add(n);
        }
        for (String n : checkpoint.names()) {
            if (checkpoint.info(n).dtype() == DType.F8_E4M3 && !enc.containsKey(n)) {
                throw new RoutecalException(dir + ": " + n + " is F8_E4M3 but has no weight_scale_inv");
            }
        }
    }

    /** Pairs each {@code X_blocks} with {@code X_scales}: the logical tensor is {@code X}. */
    private void mxfp4(Map<String, StoredForm> enc, Set<String> hidden) {
        for (String n : checkpoint.names()) {
            if (!n.endsWith("_blocks")) continue;
            String base = n.substring(0, n.length() - "_blocks".length()), scales = base + "_scales";
            if (!checkpoint.contains(scales)) throw new RoutecalException(dir + ": " + n + " has no " + scales + " beside it");
            TensorInfo b = checkpoint.info(n), s = checkpoint.info(scales);
            long[] bs = b.shape(), ss = s.shape();
            if (b.dtype() != DType.U8 || s.dtype() != DType.U8 || bs.length != 4 || bs[3] != Mxfp4.GROUP / 2 || ss.length != 3
                    || ss[0] != bs[0] || ss[1] != bs[1] || ss[2] != bs[2]) {
                throw new RoutecalException(dir + ": " + n + " " + b.dtype() + java.util.Arrays.toString(bs) + " / " + scales + " "
                        + s.dtype() + java.util.Arrays.toString(ss) + " are not MXFP4 blocks U8 [experts, out, groups, 16] and scales U8 [experts, out, groups]");
            }
            enc.put(base, new StoredForm(StoredForm.Encoding.MXFP4, Map.of("values", n, "scales", scales), new int[]{1, Mxfp4.GROUP}));
            hidden.add(scales);
        }
    }

    public SafetensorsCheckpoint checkpoint() { return checkpoint; }

    @Override public Set<String> names() { return names; }

    @Override public boolean contains(String name) { return names.contains(name); }

    @Override public long[] shape(String name) {
        StoredForm f = encoded.get(name);
        if (f == null) return checkpoint.info(name).shape();
        long[] s = checkpoint.info(f.parts().get("values")).shape();
        if (f.encoding() == StoredForm.Encoding.MXFP4) return new long[]{s[0], s[2] * Mxfp4.GROUP, s[1]};
        return s;
    }

    @Override public String dtype(String name) {
        StoredForm f = encoded.get(name);
        return f == null ? checkpoint.info(name).dtype().name() : f.encoding().name();
    }

    @Override public float[] readFloat(String name) {
        StoredForm f = encoded.get(name);
        if (f == null) return checkpoint.readFloat(name);
        String values = f.parts().get("values"), scales = f.parts().get("scales");
        long[] s = checkpoint.info(values).shape();
        if (f.encoding() == StoredForm.Encoding.MXFP4) {
            return Mxfp4.decodeTransposed(checkpoint.readBytes(values), checkpoint.readBytes(scales),
                    (int) s[0], (int) s[1], (int) s[2], dir + ": " + name);
        }
        int rows = (int) s[s.length - 2], cols = (int) s[s.length - 1];
        long leading = 1;
        for (int i = 0; i < s.length - 2; i++) leading *= s[i];
        float[] scale = checkpoint.info(scales).dtype() == DType.U8 ? e8m0(checkpoint.readBytes(scales)) : checkpoint.readFloat(scales);
        return BlockFp8.decode(checkpoint.readBytes(values), (int) leading, rows, cols, scale, f.block()[0], f.block()[1], dir + ": " + name);
    }

    /**
     * Experts {@code [first, first + count)} of a stack without reading the rest: plain tensors map only those rows;
     * MXFP4 decodes only their blocks and scales (GPT-OSS-120b's gate_up is 8.5 GB decoded per layer).
     */
    @Override public float[] readFloatLeading(String name, int first, int count) {
        StoredForm f = encoded.get(name);
        if (f == null) return checkpoint.readFloatRows(name, first, count);
        if (f.encoding() != StoredForm.Encoding.MXFP4) return TensorSource.super.readFloatLeading(name, first, count);
        String values = f.parts().get("values"), scales = f.parts().get("scales");
        long[] s = checkpoint.info(values).shape(); // [experts, out, groups, 16]
        if (first < 0 || count < 0 || first + count > s[0]) {
            throw new RoutecalException(dir + ": " + name + ": experts [" + first + ", " + (first + count) + ") outside [0, " + s[0] + ")");
        }
        int out = (int) s[1], groups = (int) s[2];
        return Mxfp4.decodeTransposed(bytes(values, (long) first * out * groups * (Mxfp4.GROUP / 2), (long) count * out * groups * (Mxfp4.GROUP / 2)),
                bytes(scales, (long) first * out * groups, (long) count * out * groups), count, out, groups, dir + ": " + name);
    }

    private byte[] bytes(String stored, long offset, long length) {
        java.nio.ByteBuffer b = checkpoint.mapped(stored).slice(Math.toIntExact(offset), Math.toIntExact(length));
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** ue8m0 scale_fmt: each byte a power of two. */
    private static float[] e8m0(byte[] b) {
        float[] out = new float[b.length];
        for (int i = 0; i < b.length; i++) out[i] = DTypeCodec.e8m0ToFloat(b[i]);
        return out;
    }

    @Override public StoredForm storedForm(String name) {
        if (!names.contains(name)) throw new RoutecalException(dir + ": no tensor named '" + name + "'");
        return encoded.getOrDefault(name, StoredForm.plain(name));
    }

    @Override public byte[] readStored(String storedName) { return checkpoint.readBytes(storedName); }

    @Override public String describe() { return dir.toString(); }

    @Override public void close() { checkpoint.close(); }
}
