package org.routecal.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads tests/fixtures/route/reference_v1 (made by tests/route/make_reference_fixture.py, which runs the PASCAL-MoE
 * phase-1 code itself): the token routing, the samples with their tokenization, the expert weights, and the
 * reference's outputs under expected/.
 */
final class ReferenceFixture {
    static final ObjectMapper JSON = new ObjectMapper();
    static final RoutingGeometry GEOMETRY = new RoutingGeometry(new int[]{0, 1, 2, 3, 4, 5}, 8, 2);

    final Path dir;
    final List<JsonNode> samples;
    final RoutingBatch batch;
    final int[] sampleStart; // first token row of each sample in batch

    ReferenceFixture() throws IOException {
        dir = locate();
        samples = readJsonl(dir.resolve("samples.jsonl"));
        List<JsonNode> rows = readJsonl(dir.resolve("token_routing.jsonl"));
        int n = rows.size(), layers = GEOMETRY.layers(), k = GEOMETRY.topK();
        int[] sample = new int[n], pos = new int[n], tok = new int[n], cs = new int[n], ce = new int[n];
        short[] ids = new short[n * layers * k];
        float[] w = new float[n * layers * k];
        sampleStart = new int[samples.size() + 1];
        for (int t = 0; t < n; t++) {
            JsonNode r = rows.get(t);
            sample[t] = r.get("sample_id").asInt();
            pos[t] = r.get("position_id").asInt();
            tok[t] = r.get("token_id").asInt();
            JsonNode s = samples.get(sample[t]);
            String text = s.get("text").asText();
            // the fixture's offsets are Python code points; ours are UTF-16 chars
            cs[t] = text.offsetByCodePoints(0, s.get("char_start").get(pos[t]).asInt());
            ce[t] = text.offsetByCodePoints(0, s.get("char_end").get(pos[t]).asInt());
            if (pos[t] == 0) sampleStart[sample[t]] = t;
            for (int l = 0; l < layers; l++) {
                for (int j = 0; j < k; j++) {
                    ids[(t * layers + l) * k + j] = (short) r.get("activated_expert_ids").get(String.valueOf(l)).get(j).asInt();
                    w[(t * layers + l) * k + j] = (float) r.get("weights").get(String.valueOf(l)).get(j).asDouble();
                }
            }
        }
        sampleStart[samples.size()] = n;
        batch = new RoutingBatch(GEOMETRY, n, sample, pos, tok, cs, ce, ids, w);
    }

    JsonNode expected(String name) throws IOException {
        return JSON.readTree(dir.resolve("expected").resolve(name).toFile());
    }

    List<JsonNode> expectedJsonl(String name) throws IOException {
        return readJsonl(dir.resolve("expected").resolve(name));
    }

    /** Expert weights by tensor name: {rows, cols} and values (bf16 → f32 exactly). */
    Map<String, float[]> weights(Map<String, int[]> shapes) throws IOException {
        byte[] blob = Files.readAllBytes(dir.resolve("weights.bin"));
        ByteBuffer bb = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, float[]> out = new HashMap<>();
        for (JsonNode m : JSON.readTree(dir.resolve("weights.json").toFile())) {
            int rows = m.get("shape").get(0).asInt(), cols = m.get("shape").get(1).asInt(), off = m.get("offset").asInt();
            float[] v = new float[rows * cols];
            for (int i = 0; i < v.length; i++) v[i] = Float.intBitsToFloat((bb.getShort(off + 2 * i) & 0xFFFF) << 16);
            out.put(m.get("name").asText(), v);
            shapes.put(m.get("name").asText(), new int[]{rows, cols});
        }
        return out;
    }

    static List<JsonNode> readJsonl(Path p) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(p)) if (!line.isBlank()) out.add(JSON.readTree(line));
        return out;
    }

    /** Slots of a reference list [{layer, expert_id}, ...], in list order. */
    static int[] slots(JsonNode list) {
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = GEOMETRY.slot(list.get(i).get("layer").asInt(), list.get(i).get("expert_id").asInt());
        return out;
    }

    private static Path locate() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("tests/fixtures/route/reference_v1");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("tests/fixtures/route/reference_v1 not found above " + Path.of("").toAbsolutePath());
    }
}
