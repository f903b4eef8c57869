package org.routecal.io.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Writer → reader round trips for every dtype, single file and sharded, plus the commit/abort rules. */
class SafetensorsRoundTripTest {
    @TempDir Path tmp;

    /** Adds one tensor of each dtype with seeded random content; returns nothing, the reader test recomputes. */
    private static void addAll(SafetensorsWriter w) {
        Random r = new Random(3);
        for (DType t : DType.values()) {
            long[] shape = {5, 7};
            byte[] data = new byte[35 * t.byteSize()];
            r.nextBytes(data);
            if (t == DType.F8_E4M3) for (int i = 0; i < data.length; i++) if ((data[i] & 0x7F) == 0x7F) data[i] = 0; // no NaN
            w.add("raw." + t, t, shape, data);
            if (t.isFloat()) {
                float[] f = new float[35];
                for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian() * 10;
                w.addFloat("float." + t, t, new long[] {35}, f);
            }
        }
        w.addInt("ints", new long[] {3}, new int[] {-1, 0, Integer.MAX_VALUE});
        w.addLong("longs", new long[] {2}, new long[] {Long.MIN_VALUE, 5});
        w.add("empty", DType.F32, new long[] {0, 4}, new byte[0]);
        w.addFloat("scalar", DType.F32, new long[] {}, new float[] {2.5f});
    }

    private static void checkAll(SafetensorsCheckpoint ck) {
        Random r = new Random(3);
        for (DType t : DType.values()) {
            byte[] data = new byte[35 * t.byteSize()];
            r.nextBytes(data);
            if (t == DType.F8_E4M3) for (int i = 0; i < data.length; i++) if ((data[i] & 0x7F) == 0x7F) data[i] = 0;
            TensorInfo info = ck.info("raw." + t);
            assertEquals(t, info.dtype());
            assertArrayEquals(new long[] {5, 7}, info.shape());
            assertArrayEquals(data, ck.readBytes("raw." + t), t.name());
            if (t.isFloat()) {
                float[] f = new float[35];
                for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian() * 10;
                float[] back = ck.readFloat("float." + t);
                for (int i = 0; i < f.length; i++) {
                    float want = switch (t) {
                        case F32 -> f[i];
                        case BF16 -> DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(f[i]));
                        case F16 -> DTypeCodec.f16ToFloat(DTypeCodec.floatToF16(f[i]));
                        default -> DTypeCodec.fp8e4m3ToFloat(DTypeCodec.floatToFp8e4m3(f[i]));
                    };
                    assertEquals(want, back[i], t + "[" + i + "]");
                    // Relative error bound per type (3 mantissa bits for fp8 → 1/16; bf16 1/256; f16 1/2048).
                    double tol = switch (t) { case F32 -> 0; case BF16 -> 1 / 256.0; case F16 -> 1 / 2048.0; default -> 1 / 16.0; };
                    assertTrue(Math.abs(back[i] - f[i]) <= tol * Math.abs(f[i]) + 1e-3, t + "[" + i + "] " + f[i] + " → " + back[i]);
                }
            }
        }
        assertArrayEquals(new int[] {-1, 0, Integer.MAX_VALUE}, ck.readInt("ints"));
        assertArrayEquals(new long[] {Long.MIN_VALUE, 5}, ck.readLong("longs"));
        assertEquals(0, ck.readFloat("empty").length);
        assertArrayEquals(new float[] {2.5f}, ck.readFloat("scalar"));
        assertEquals(Map.of("format", "pt", "routecal", "test"), Map.of("format", ck.metadata().get("format"), "routecal", ck.metadata().get("routecal")));
    }

    @Test
    void singleShardIsModelSafetensorsWithoutIndex() throws IOException {
        Path dir = tmp.resolve("ck");
        try (SafetensorsWriter w = SafetensorsWriter.sharded(dir, 1L << 30, Map.of("format", "pt", "routecal", "test"))) {
            addAll(w);
        }
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
        assertFalse(Files.exists(dir.resolve("model.safetensors.index.json")));
        try (var s = Files.list(dir)) { assertEquals(1, s.count(), "temp files left behind"); }
        // Header padded with spaces to a multiple of 8, as the reference library does.
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("model.safetensors"))).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, n % 8);
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
            checkAll(ck);
            assertEquals(Map.of("format", "pt", "routecal", "test"), ck.metadata());
        }
    }

    @Test
    void shardedWritesIndexAndNumberedShards() throws IOException {
        Path dir = tmp.resolve("ck");
        try (SafetensorsWriter w = SafetensorsWriter.sharded(dir, 300, Map.of("format", "pt", "routecal", "test"))) {
            addAll(w);
        }
        JsonNode index = new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
        long total = index.get("metadata").get("total_size").asLong();
        int shards;
        try (var s = Files.list(dir)) { shards = (int) s.filter(p -> p.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors")).count(); }
        assertTrue(shards > 2, "expected several shards, got " + shards);
        assertTrue(Files.exists(dir.resolve(String.format("model-%05d-of-%05d.safetensors", shards, shards))));
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
            checkAll(ck);
            assertEquals(shards, ck.files().size());
            long sum = 0;
            for (String name : ck.names()) {
                sum += ck.info(name).byteLength();
                assertEquals(index.get("weight_map").get(name).asText(), ck.info(name).file().getFileName().toString());
            }
            assertEquals(total, sum);
            // No shard exceeds the limit unless it holds a single tensor.
            for (Path f : ck.files()) {
                long bytes = ck.names().stream().filter(n -> ck.info(n).file().equals(f)).mapToLong(n -> ck.info(n).byteLength()).sum();
                long count = ck.names().stream().filter(n -> ck.info(n).file().equals(f)).count();
                assertTrue(bytes <= 300 || count == 1, f + " holds " + bytes + " bytes in " + count + " tensors");
            }
        }
    }

    @Test
    void rewritingReplacesAnOlderShardedCheckpoint() throws IOException {
        Path dir = tmp.resolve("ck");
        try (SafetensorsWriter w = SafetensorsWriter.sharded(dir, 300, Map.of("format", "pt", "routecal", "test"))) { addAll(w); }
        Files.writeString(dir.resolve("config.json"), "{}");
        try (SafetensorsWriter w = SafetensorsWriter.sharded(dir, 1L << 20, Map.of())) {
            w.addFloat("only", DType.BF16, new long[] {2}, new float[] {1, 2});
        }
        try (var s = Files.list(dir)) {
            assertEquals(java.util.Set.of("config.json", "model.safetensors"), s.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
        }
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
            assertEquals(java.util.Set.of("only"), ck.names());
        }
    }

    @Test
    void failureInsideWriteLeavesTargetUntouched() throws IOException {
        Path dir = tmp.resolve("ck");
        Files.createDirectories(dir);
        RuntimeException boom = assertThrows(RuntimeException.class, () -> SafetensorsWriter.write(dir, 100, Map.of(), w -> {
            w.addFloat("a", DType.F32, new long[] {40}, new float[40]);
            w.addFloat("b", DType.F32, new long[] {40}, new float[40]);
            throw new IllegalStateException("boom");
        }));
        assertEquals("boom", boom.getMessage());
        try (var s = Files.list(dir)) { assertEquals(0, s.count(), "nothing may remain after an aborted write"); }
    }

    @Test
    void rejectsWrongByteCountAndDuplicates() {
        try (SafetensorsWriter w = SafetensorsWriter.toFile(tmp.resolve("x.safetensors"), Map.of())) {
            RoutecalException e = assertThrows(RoutecalException.class, () -> w.add("t", DType.BF16, new long[] {3}, new byte[5]));
            assertTrue(e.getMessage().contains("'t'") && e.getMessage().contains("needs 6"), e.getMessage());
            w.add("t", DType.U8, new long[] {1}, new byte[1]);
            e = assertThrows(RoutecalException.class, () -> w.add("t", DType.U8, new long[] {1}, new byte[1]));
            assertTrue(e.getMessage().contains("added twice"), e.getMessage());
        }
    }

    @Test
    void bulkDecodeCrossesChunkBoundaries() {
        float[] x = new float[70_001]; // > the 65,536-element decode chunk
        Random r = new Random(9);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * 100;
        Path p = tmp.resolve("big.safetensors");
        try (SafetensorsWriter w = SafetensorsWriter.toFile(p, Map.of())) {
            w.addFloat("bf16", DType.BF16, new long[] {x.length}, x);
            w.addFloat("f16", DType.F16, new long[] {x.length}, x);
            w.addFloat("fp8", DType.F8_E4M3, new long[] {x.length}, x);
        }
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(p)) {
            float[] bf = ck.readFloat("bf16"), h = ck.readFloat("f16"), f8 = ck.readFloat("fp8");
            for (int i = 0; i < x.length; i++) {
                assertEquals(DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(x[i])), bf[i], "bf16[" + i + "]");
                assertEquals(DTypeCodec.f16ToFloat(DTypeCodec.floatToF16(x[i])), h[i], "f16[" + i + "]");
                assertEquals(DTypeCodec.fp8e4m3ToFloat(DTypeCodec.floatToFp8e4m3(x[i])), f8[i], "fp8[" + i + "]");
            }
        }
    }
}
