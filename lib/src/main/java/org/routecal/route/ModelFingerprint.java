package org.routecal.route;

import com.fasterxml.jackson.databind.SerializationFeature;
import org.routecal.RoutecalException;
import org.routecal.io.Json;
import org.routecal.model.MoeModel;
import org.routecal.model.family.MoeFamily;
import org.routecal.pipeline.Sha256;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Identifies the model a run directory was made with: sha256 over config.json (parsed, keys sorted, so formatting does
 * not matter; the parsed config for an in-memory model) and the first MoE layer's router weights (so two fine-tunes with one config differ). Cheap: one router
 * tensor is [experts, hidden].
 */
public final class ModelFingerprint {
    private static final com.fasterxml.jackson.databind.ObjectWriter SORTED = Json.MAPPER.writer().with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private ModelFingerprint() {}

    /** Hex sha256 of the canonical config and the first router. */
    public static String of(MoeModel model, RoutingGeometry g) {
        Path config = model.dir().resolve("config.json");
        try {
            // an in-memory model (tests, benchmarks) has no config.json: its parsed config stands in
            String canonical = Files.isRegularFile(config)
                    ? SORTED.writeValueAsString(Json.MAPPER.readValue(config.toFile(), Map.class)) : model.config().toString();
            int layer = g.layerIndex()[0];
            float[] router = model.weights().hostValues(MoeFamily.name(model.family().tensors().router(), layer, 0),
                    g.experts(), model.config().hiddenSize());
            ByteBuffer bb = ByteBuffer.allocate(router.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            bb.asFloatBuffer().put(router);
            return Sha256.of(canonical.getBytes(StandardCharsets.UTF_8), bb.array());
        } catch (IOException e) {
            throw new RoutecalException(config + ": cannot read for the model fingerprint: " + e.getMessage(), e);
        }
    }
}
