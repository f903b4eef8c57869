package org.routecal.compute.cuda.ref;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/** Reads tests/fixtures/cuda_ref/ref.json (made by tests/gpu/make_ref_fixtures.py from torch / transformers). */
final class RefFixture {
    static final Path FILE = Path.of("..", "tests", "fixtures", "cuda_ref", "ref.json");
    private static JsonNode root;

    private RefFixture() {}

    static synchronized JsonNode op(String name) throws IOException {
        if (root == null) root = new ObjectMapper().readTree(Files.readString(FILE));
        JsonNode n = root.get(name);
        if (n == null) throw new IllegalStateException(FILE + " has no entry " + name + "; rerun tests/gpu/make_ref_fixtures.py");
        return n;
    }

    static float[] f(JsonNode n, String key) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(n.get(key).asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    static int[] i(JsonNode n, String key) {
        JsonNode a = n.get(key);
        int[] out = new int[a.size()];
        for (int k = 0; k < out.length; k++) out[k] = a.get(k).asInt();
        return out;
    }

    static int n(JsonNode n, String key) { return n.get(key).asInt(); }
}
