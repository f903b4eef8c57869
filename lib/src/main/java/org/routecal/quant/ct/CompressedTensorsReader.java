package org.routecal.quant.ct;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import org.routecal.RoutecalException;
import org.routecal.io.Json;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.TensorSource;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.ScaleDType;

/**
 * Reads a compressed-tensors checkpoint (ours or llm-compressor's, single config group) as plain weights: every
 * quantized module appears as {@code <module>.weight} [out, in], dequantized to float32, so {@code MoeModel} runs on
 * it unchanged for evaluation and serving. Other tensors pass through.
 */
public final class CompressedTensorsReader implements TensorSource {
    private static final String[] SUFFIXES = {".weight_packed", ".weight_scale", ".weight_shape", ".weight_zero_point",
            ".weight_g_idx", ".weight_global_scale", ".input_global_scale"};
    private final Path dir;
    private final SafetensorsCheckpoint ckpt;
    private final CtQuantConfig config;
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
        this.config = CtQuantConfig.fromJson(cfg.get("quantization_config"), dir.resolve("config.json").toString());
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

    public CtQuantConfig config() {
        return config;
    }

    public Set<String> quantizedModules() {
        return Set.copyOf(quantizedModules);
    }

    /** Codes and parameters of a quantized module as stored. */
    public QuantizedWeight quantized(String module) {
        if (!quantizedModules.contains(module)) throw new RoutecalException(dir + ": module " + module + " is not quantized");
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
        return m != null ? CtCodec.shape(ckpt, m, config) : ckpt.info(name).shape();
    }

    @Override
    public String dtype(String name) {
        String m = quantizedModuleOfWeight(name);
        return m != null ? config.scheme().name() : ckpt.info(name).dtype().name();
    }

    @Override
    public float[] readFloat(String name) {
        String m = quantizedModuleOfWeight(name);
        return m != null ? quantized(m).dequantize() : ckpt.readFloat(name);
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
