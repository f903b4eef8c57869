package org.routecal.quant.ct;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import org.routecal.RoutecalException;
import org.routecal.io.safetensors.BlockFp8;
import org.routecal.io.safetensors.DType;
import org.routecal.io.safetensors.DTypeCodec;
import org.routecal.io.Json;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.StoredForm;
import java.util.LinkedHashMap;
import java.util.Map;
import org.routecal.model.TensorSource;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.ScaleDType;

/**
 * Reads a compressed-tensors checkpoint (ours or llm-compressor's; several config groups resolve per module: pack-quantized int,
 * naive/float-quantized FP8 per tensor, channel or block, nvfp4-pack-quantized) as plain weights: every quantized
 * module appears as {@code <module>.weight} [out, in], dequantized to float32, so {@code MoeModel} runs on it
 * unchanged for evaluation, serving and requantization; {@link #storedForm} names the stored parts. Other tensors
 * pass through. Checked against compressed-tensors' own decompressors (tests/fixtures/quant/ct and ct_sources).
 */
public final class CompressedTensorsReader implements TensorSource {
    private static final String[] SUFFIXES = {".weight_packed", ".weight_scale", ".weight_shape", ".weight_zero_point",
            ".weight_g_idx", ".weight_global_scale", ".input_global_scale"};
    private final Path dir;
    private final SafetensorsCheckpoint ckpt;
    private final CtQuantConfig config;   // null for FP8 block checkpoints (decoded here, not a scheme we write)
    private final int[] fp8Block;         // [rows, cols] of an FP8 "block" strategy, else null
    private final ScaleDType modelDtype; // config.json torch_dtype/dtype: NVFP4 values are dequantized to it
    private final Set<String> quantizedModules = new LinkedHashSet<>();
    private final Set<String> names = new LinkedHashSet<>();

    private CompressedTensorsReader(Path dir) {
        this.dir = dir;
        JsonNode cfg;
        try {
            cfg = Json.MAPPER.readTree(dir.resolve("config.json").toFile());
        } catch (IOException e) {
            throw new RoutecalException(dir.resolve("config.json") + ": cannot read: " + e.getMessage(), e);
        }
        this.fp8Block = fp8Block(cfg.get("quantization_config"), dir.resolve("config.json").toString());
        this.config = fp8Block != null ? null : CtQuantConfig.fromJson(cfg.get("quantization_config"), dir.resolve("config.json").toString());
        String dt = cfg.path("torch_dtype").asText(cfg.path("dtype").asText("bfloat16"));
        ScaleDType parsed;
        try {
            parsed = ScaleDType.parse(dt.isEmpty() ? "bfloat16" : dt);
        } catch (IllegalArgumentException e) {
            parsed = ScaleDType.BF16;
        }
        this.modelDtype = parsed;
        this.ckpt = SafetensorsCheckpoint.open(dir);
        for (String n : ckpt.names()) if (n.endsWith(".weight_scale")) quantizedModules.add(n.substring(0, n.length() - ".weight_scale".length()));
        for (String n : ckpt.names()) {
            String module = moduleOf(n);
            names.add(module != null ? module + ".weight" : n);
        }
    }

    /** llm-compressor's FP8_BLOCK: float 8-bit weights, strategy "block", block_structure [rows, cols]. */
    private static int[] fp8Block(JsonNode qc, String where) {
        JsonNode groups = qc == null ? null : qc.path("config_groups");
        if (groups == null || groups.size() != 1) return null;   // fromJson names the problem
        JsonNode w = groups.elements().next().path("weights");
        if (!"block".equals(w.path("strategy").asText())) return null;
        JsonNode b = w.path("block_structure");
        if (!"float".equals(w.path("type").asText()) || w.path("num_bits").asInt() != 8 || !b.isArray() || b.size() != 2
                || b.get(0).asInt() < 1 || b.get(1).asInt() < 1) {
            throw new RoutecalException(where + ": quantization_config weights {strategy block, type " + w.path("type").asText()
                    + ", num_bits " + w.path("num_bits") + ", block_structure " + b + "} is not FP8 blocks of [rows, cols]");
        }
        return new int[]{b.get(0).asInt(), b.get(1).asInt()};
    }

    /** Opens {@code dir} (config.json with a compressed-tensors quantization_config + safetensors). */
    public static CompressedTensorsReader open(Path dir) {
        return new CompressedTensorsReader(dir);
    }

    /** True when {@code dir}'s config.json carries a compressed-tensors quantization_config. */
    public static boolean isCompressedTensors(Path dir) {
        try {
            JsonNode cfg = Json.MAPPER.readTree(Files.readString(dir.resolve("config.json")));
            return "compressed-tensors".equals(cfg.path("quantization_config").path("quant_method").asText());
        } catch (IOException e) {
            return false;
        }
    }

    /** The quantized module a stored tensor belongs to, or null. */
    private String moduleOf(String tensor) {
        for (String s : SUFFIXES) {
            if (tensor.endsWith(s)) {
                String m = tensor.substring(0, tensor.length() - s.length());
                if (quantizedModules.contains(m)) return m;
            }
        }
        if (tensor.endsWith(".weight")) {
            String m = tensor.substring(0, tensor.length() - 7);
            if (quantizedModules.contains(m)) return m;
        }
        return null;
    }

    /** The checkpoint's scheme; null for FP8 block checkpoints, which are read but not a scheme routecal writes. */
    public CtQuantConfig config() {
        return config;
    }

    public Set<String> quantizedModules() {
        return Set.copyOf(quantizedModules);
    }

    /** Codes and parameters of a quantized module as stored. */
    public QuantizedWeight quantized(String module) {
        if (!quantizedModules.contains(module)) throw new RoutecalException(dir + ": module " + module + " is not quantized");
        if (fp8Block != null) throw new RoutecalException(dir + ": FP8 block modules decode to float (readFloat); they have no QuantizedWeight form");
        return CtCodec.decode(ckpt, module, config, modelDtype);
    }

    public SafetensorsCheckpoint checkpoint() {
        return ckpt;
    }

    @Override
    public Set<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return names.contains(name);
    }

    private String quantizedModuleOfWeight(String name) {
        if (!name.endsWith(".weight")) return null;
        String m = name.substring(0, name.length() - 7);
        return quantizedModules.contains(m) ? m : null;
    }

    @Override
    public long[] shape(String name) {
        String m = quantizedModuleOfWeight(name);
        return m != null ? CtCodec.shape(ckpt, m, config) : ckpt.info(name).shape();   // config is unused for FP8 (weight shape)
    }

    @Override
    public String dtype(String name) {
        String m = quantizedModuleOfWeight(name);
        if (m == null) return ckpt.info(name).dtype().name();
        return fp8Block != null ? "FP8_BLOCK" : config.schemeOf(m).name();
    }

    @Override
    public float[] readFloat(String name) {
        String m = quantizedModuleOfWeight(name);
        if (m == null) return ckpt.readFloat(name);
        if (fp8Block != null) {
            long[] s = ckpt.info(m + ".weight").shape();
            float[] v = BlockFp8.decode(ckpt.readBytes(m + ".weight"), 1, (int) s[0], (int) s[1], ckpt.readFloat(m + ".weight_scale"),
                    fp8Block[0], fp8Block[1], dir + ": " + m);
            // compressed-tensors multiplies in the scale's dtype: the product rounds to it once (exact otherwise)
            DType scaleType = ckpt.info(m + ".weight_scale").dtype();
            if (scaleType == DType.BF16) for (int i = 0; i < v.length; i++) v[i] = DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(v[i]));
            if (scaleType == DType.F16) for (int i = 0; i < v.length; i++) v[i] = DTypeCodec.f16ToFloat(DTypeCodec.floatToF16(v[i]));
            return v;
        }
        return quantized(m).dequantize();
    }

    /** The stored tensors of a quantized module by role (values, scales, zero_point, g_idx, global_scale). */
    @Override
    public StoredForm storedForm(String name) {
        String m = quantizedModuleOfWeight(name);
        if (m == null) return StoredForm.plain(name);
        Map<String, String> parts = new LinkedHashMap<>();
        parts.put("values", ckpt.contains(m + ".weight_packed") ? m + ".weight_packed" : m + ".weight");
        parts.put("scales", m + ".weight_scale");
        for (String role : new String[]{"zero_point", "g_idx", "global_scale"}) {
            if (ckpt.contains(m + ".weight_" + role)) parts.put(role, m + ".weight_" + role);
        }
        long[] shape = shape(name);
        int cols = (int) shape[1];
        int[] block = fp8Block != null ? fp8Block.clone()
                : config.schemeOf(m) instanceof org.routecal.quant.scheme.Fp8Scheme fs && fs.perTensor() ? new int[]{(int) shape[0], cols}
                : new int[]{1, config.schemeOf(m).groupSize(cols)};
        return new StoredForm(StoredForm.Encoding.COMPRESSED_TENSORS, Map.copyOf(parts), block);
    }

    @Override
    public byte[] readStored(String storedName) {
        return ckpt.readBytes(storedName);
    }

    @Override
    public String describe() {
        return dir.toString();
    }

    @Override
    public void close() {
        ckpt.close();
    }
}
