package org.routecal.route;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.io.OutputStreamWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;

/**
 * {@code token_routing.jsonl} in the reference's schema (its step 2 output), one line per token:
 * <pre>
 * {"sample_id": 0, "position_id": 5, "token_id": 1412, "token_str": "ends",
 *  "activated_expert_ids": {"0": [101, 47, …], …}, "weights": {"0": [0.31, 0.18, …], …}}
 * </pre>
 * Keys of the two maps are decoder-layer indices as strings; ids are by descending weight; {@code weights} (absent in
 * the reference, which discarded them) are the routing weights as the model combines them. {@code sample_id} is written
 * as a number when the corpus id is a canonical integer (as in the reference), else as a string. Large (≈ 3 kB per
 * token at 48 × 8), hence optional. Written atomically ({@link AtomicFiles}).
 */
public final class TokenRoutingJsonl implements AutoCloseable {
    private static final JsonFactory JSON = new JsonFactory();
    private final Path target;
    private final AtomicFiles.Output file;
    private final BufferedWriter out;
    private final List<String> sampleIds;
    private final IntFunction<String> tokenString;
    private final String[] layerKeys;

    /**
     * @param sampleIds   corpus sample id by sample index
     * @param tokenString the token's text as the reference writes it ({@code decode([id])}, or the vocabulary string if
     *                    that is blank)
     */
    public TokenRoutingJsonl(Path target, RoutingGeometry geometry, List<String> sampleIds, IntFunction<String> tokenString) {
        this.target = target;
        this.sampleIds = sampleIds;
        this.tokenString = tokenString;
        this.layerKeys = new String[geometry.layers()];
        for (int l = 0; l < layerKeys.length; l++) layerKeys[l] = String.valueOf(geometry.layerIndex()[l]);
        this.file = AtomicFiles.open(target);
        this.out = new BufferedWriter(new OutputStreamWriter(file, StandardCharsets.UTF_8), 1 << 16);
    }

    /** Appends one line per token of the batch. */
    public void write(RoutingBatch b) {
        int k = b.geometry().topK();
        try {
            for (int t = 0; t < b.tokens(); t++) {
                JsonGenerator g = JSON.createGenerator(out);
                g.writeStartObject();
                String sid = sampleIds.get(b.sampleIndex()[t]);
                g.writeFieldName("sample_id");
                if (isCanonicalInt(sid)) g.writeNumber(Long.parseLong(sid));
                else g.writeString(sid);
                g.writeNumberField("position_id", b.position()[t]);
                g.writeNumberField("token_id", b.tokenId()[t]);
                g.writeStringField("token_str", tokenString.apply(b.tokenId()[t]));
                g.writeObjectFieldStart("activated_expert_ids");
                for (int l = 0; l < layerKeys.length; l++) {
                    g.writeArrayFieldStart(layerKeys[l]);
                    for (int j = 0; j < k; j++) g.writeNumber(b.expertId(t, l, j));
                    g.writeEndArray();
                }
                g.writeEndObject();
                g.writeObjectFieldStart("weights");
                for (int l = 0; l < layerKeys.length; l++) {
                    g.writeArrayFieldStart(layerKeys[l]);
                    for (int j = 0; j < k; j++) g.writeNumber(b.weight(t, l, j));
                    g.writeEndArray();
                }
                g.writeEndObject();
                g.writeEndObject();
                g.flush();
                out.write('\n');
            }
        } catch (IOException e) {
            file.abort();
            throw new RoutecalException(target + ": write failed: " + e.getMessage(), e);
        }
    }

    /** Discards what was written; the target is left as it was. */
    public void abort() { file.abort(); }

    @Override public void close() {
        try {
            out.flush();
            file.close();
        } catch (IOException e) {
            file.abort();
            throw new RoutecalException(target + ": cannot finish: " + e.getMessage(), e);
        }
    }

    static boolean isCanonicalInt(String s) {
        if (s.isEmpty() || s.length() > 18) return false;
        int i = s.charAt(0) == '-' ? 1 : 0;
        if (i == s.length() || (s.charAt(i) == '0' && s.length() > i + 1)) return false;
        for (; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return false;
        return !s.equals("-0");
    }
}
