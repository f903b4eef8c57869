package org.routecal.quant;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.routecal.io.Json;
import org.routecal.io.safetensors.DType;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.io.safetensors.SafetensorsWriter;
import org.routecal.io.safetensors.TensorInfo;

/** Variants of the HF-made fixture models (tests/fixtures/models) that computes the same function. */
final class FixtureModels {
    private FixtureModels() {}

    /**
     * The model with grouped-query attention turned into plain multi-head attention: every key/value head repeated
     * for the query heads that share it (HF's repeat_kv, done on the k_proj/v_proj rows), so the function is the
     * same but v_proj and o_proj line up (AWQ's v_proj → o_proj mapping exists only then).
     */
    static Path withoutGqa(Path src, Path dst) throws IOException {
        ObjectNode cfg = (ObjectNode) Json.MAPPER.readTree(src.resolve("config.json").toFile());
        int heads = cfg.get("num_attention_heads").asInt(), kv = cfg.get("num_key_value_heads").asInt();
        int hd = cfg.has("head_dim") ? cfg.get("head_dim").asInt() : cfg.get("hidden_size").asInt() / heads, rep = heads / kv;
        cfg.put("num_key_value_heads", heads);
        Files.createDirectories(dst);
        Files.writeString(dst.resolve("config.json"), Json.MAPPER.writeValueAsString(cfg));
        try (SafetensorsCheckpoint in = SafetensorsCheckpoint.open(src);
             SafetensorsWriter out = SafetensorsWriter.toFile(dst.resolve("model.safetensors"), Map.of("format", "pt"))) {
            for (String name : in.names()) {
                TensorInfo info = in.info(name);
                boolean kvProj = name.endsWith("k_proj.weight") || name.endsWith("v_proj.weight")
                        || name.endsWith("k_proj.bias") || name.endsWith("v_proj.bias");
                if (!kvProj) {
                    out.add(name, info.dtype(), info.shape(), in.readBytes(name));
                    continue;
                }
                float[] w = in.readFloat(name);
                int cols = info.shape().length == 2 ? (int) info.shape()[1] : 1;
                float[] x = new float[w.length * rep];
                for (int h = 0; h < heads; h++) {
                    System.arraycopy(w, (h / rep) * hd * cols, x, h * hd * cols, hd * cols); // query head h reads kv head h / rep
                }
                long[] shape = info.shape().clone();
                shape[0] *= rep;
                out.addFloat(name, info.dtype(), shape, x);
            }
        }
        return dst;
    }
}
