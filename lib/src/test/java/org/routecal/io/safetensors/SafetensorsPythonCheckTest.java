package org.routecal.io.safetensors;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Writes a deterministic single-file and sharded checkpoint to {@code lib/target/safetensors-check/} for
 * {@code tests/check_safetensors.py}, which verifies them with the reference `safetensors` library and torch's own
 * dtype conversions (it cannot run in CI: no Python there). Here we check our own reading of the same files.
 */
class SafetensorsPythonCheckTest {
    static final Path OUT = Path.of("target", "safetensors-check");

    /** x_i = ((i % 97) - 48) × 0.37 + (i / 97) × 1.5 in f32; the script computes the same in torch float32. */
    static float[] values(int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = ((float) ((i % 97) - 48) * 0.37f + (float) (i / 97) * 1.5f) * scale;
        return x;
    }

    static void addTensors(SafetensorsWriter w) {
        w.addFloat("model.layers.0.mlp.experts.0.gate_proj.weight", DType.BF16, new long[] {6, 35}, values(210, 1f));
        w.addFloat("model.layers.0.mlp.experts.0.up_proj.weight", DType.F16, new long[] {210}, values(210, 1f));
        w.addFloat("model.norm.weight", DType.F32, new long[] {5, 42}, values(210, 1f));
        w.addFloat("model.layers.0.mlp.experts.0.down_proj.weight", DType.F8_E4M3, new long[] {14, 15}, values(210, 40f));
        int[] ints = new int[12];
        for (int i = 0; i < ints.length; i++) ints[i] = i * 1_000_003 - 7;
        w.addInt("i32", new long[] {3, 4}, ints);
        w.addLong("i64", new long[] {2}, new long[] {Long.MIN_VALUE, Long.MAX_VALUE});
        w.add("i8", DType.I8, new long[] {4}, new byte[] {-128, -1, 0, 127});
        w.add("u8", DType.U8, new long[] {4}, new byte[] {0, 1, (byte) 128, (byte) 255});
    }

    @Test
    void writesCheckpointsForTheReferenceChecker() throws IOException {
        Files.createDirectories(OUT);
        Map<String, String> meta = Map.of("format", "pt", "writer", "routecal");
        try (SafetensorsWriter w = SafetensorsWriter.toFile(OUT.resolve("single.safetensors"), meta)) { addTensors(w); }
        try (SafetensorsWriter w = SafetensorsWriter.sharded(OUT.resolve("sharded"), 500, meta)) { addTensors(w); }
        for (Path p : new Path[] {OUT.resolve("single.safetensors"), OUT.resolve("sharded")}) {
            try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(p)) {
                assertEquals(8, ck.names().size());
                assertEquals("routecal", ck.metadata().get("writer"));
                float[] want = values(210, 1f);
                float[] got = ck.readFloat("model.norm.weight");
                assertArrayEquals(want, got);
                float[] fp8 = ck.readFloat("model.layers.0.mlp.experts.0.down_proj.weight");
                float max = 0;
                for (float v : fp8) max = Math.max(max, Math.abs(v));
                assertEquals(448f, max, "values past 448 saturate");
            }
        }
        assertTrue(Files.exists(OUT.resolve("sharded/model.safetensors.index.json")));
    }
}
