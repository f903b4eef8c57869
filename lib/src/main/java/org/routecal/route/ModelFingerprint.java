package org.routecal.route;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.routecal.RoutecalException;
import org.routecal.model.MoeModel;
import org.routecal.model.family.MoeFamily;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * Identifies the model a run directory was made with: sha256 over config.json (parsed, keys sorted, so formatting does
 * not matter; the parsed config for an in-memory model) and the first MoE layer's router weights (so two fine-tunes with one config differ). Cheap: one router
 * tensor is [experts, hidden].
 */
public final class ModelFingerprint {
    private static final ObjectMapper SORTED = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private ModelFingerprint() {}

    /** Hex sha256 of the canonical config and the first router. */
    public static String of(MoeModel model, RoutingGeometry g) {
        Path config = model.dir().resolve("config.json");
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            // an in-memory model (tests, benchmarks) has no config.json: its parsed config stands in
            String canonical = Files.isRegularFile(config)
                    ? SORTED.writeValueAsString(SORTED.readValue(config.toFile(), Map.class)) : model.config().toString();
            md.update(canonical.getBytes(StandardCharsets.UTF_8));
            int layer = g.layerIndex()[0];
            float[] router = model.weights().hostValues(MoeFamily.name(model.family().tensors().router(), layer, 0),
                    g.experts(), model.config().hiddenSize());
            ByteBuffer bb = ByteBuffer.allocate(router.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            bb.asFloatBuffer().put(router);
            md.update(bb.array());
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new RoutecalException(config + ": cannot read for the model fingerprint: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Hex sha256 of a file's bytes (streamed). */
    public static String sha256(Path file) {
        try (var in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new RoutecalException(file + ": cannot read: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
