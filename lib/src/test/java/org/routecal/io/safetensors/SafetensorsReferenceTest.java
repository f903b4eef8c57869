package org.routecal.io.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Reads files written by the reference `safetensors` library and compares with the values torch dumped. */
class SafetensorsReferenceTest {
    private static final Path DIR = Fixtures.dir("safetensors");

    @Test
    void readsEveryDtypeWrittenByTheReferenceLibrary() throws IOException {
        JsonNode ref = new ObjectMapper().readTree(DIR.resolve("reference.json").toFile());
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(DIR.resolve("reference.safetensors"))) {
            assertEquals(Map.of("format", "pt", "producer", "make_safetensors_fixture.py"), ck.metadata());
            assertEquals(ref.get("tensors").size(), ck.names().size());
            ref.get("tensors").fields().forEachRemaining(e -> check(ck, e.getKey(), e.getValue()));
        }
    }

    @Test
    void readsShardedCheckpointThroughItsIndex() throws IOException {
        JsonNode ref = new ObjectMapper().readTree(DIR.resolve("sharded.json").toFile());
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(DIR.resolve("sharded"))) {
            assertEquals(4, ck.files().size());
            assertEquals("pt", ck.metadata().get("format"));
            assertEquals("2176", ck.metadata().get("total_size"));
            assertEquals(ref.get("tensors").size(), ck.names().size());
            ref.get("tensors").fields().forEachRemaining(e -> check(ck, e.getKey(), e.getValue()));
            // Rows of a BF16 tensor equal the matching slice of the whole tensor.
            String name = "model.layers.1.mlp.experts.2.gate_proj.weight";
            float[] all = ck.readFloat(name);
            float[] rows = ck.readFloatRows(name, 3, 2);
            for (int i = 0; i < rows.length; i++) assertEquals(all[3 * 16 + i], rows[i]);
        }
    }

    private static void check(SafetensorsCheckpoint ck, String name, JsonNode want) {
        TensorInfo t = ck.info(name);
        long[] shape = new long[want.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = want.get("shape").get(i).asLong();
        assertArrayEquals(shape, t.shape(), name);
        if (want.has("f32_bits")) {
            float[] got = ck.readFloat(name);
            assertEquals(want.get("f32_bits").size(), got.length, name);
            for (int i = 0; i < got.length; i++) {
                assertEquals(want.get("f32_bits").get(i).asInt(), Float.floatToRawIntBits(got[i]), name + "[" + i + "]");
            }
        } else {
            long[] got = t.dtype() == DType.I64 ? ck.readLong(name) : java.util.Arrays.stream(ck.readInt(name)).asLongStream().toArray();
            assertEquals(want.get("ints").size(), got.length, name);
            for (int i = 0; i < got.length; i++) assertEquals(want.get("ints").get(i).asLong(), got[i], name + "[" + i + "]");
        }
    }

    @Test
    void codecsMatchTorchBitForBit() {
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(DIR.resolve("codec.safetensors"))) {
            float[] x = ck.readFloat("input");
            byte[] bf16 = ck.readBytes("bf16"), f16 = ck.readBytes("f16"), fp8 = ck.readBytes("fp8");
            assertTrue(x.length > 1000);
            int nans = 0;
            for (int i = 0; i < x.length; i++) {
                short wantBf = (short) ((bf16[2 * i] & 0xFF) | (bf16[2 * i + 1] << 8));
                short wantH = (short) ((f16[2 * i] & 0xFF) | (f16[2 * i + 1] << 8));
                String at = "input[" + i + "] = " + x[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(x[i])) + ")";
                if (Float.isNaN(x[i])) {
                    // torch's NaN bf16 pattern depends on its code path (0x7FC0 scalar, 0xFFFF vectorised): NaN-ness only.
                    assertTrue(Float.isNaN(DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(x[i]))), at);
                    assertTrue(Float.isNaN(DTypeCodec.bf16ToFloat(wantBf)), at);
                    nans++;
                } else {
                    assertEquals(wantBf, DTypeCodec.floatToBf16(x[i]), "bf16 of " + at);
                }
                assertEquals(wantH, DTypeCodec.floatToF16(x[i]), "f16 of " + at);
                assertEquals(fp8[i], DTypeCodec.floatToFp8e4m3(x[i]), "fp8 of " + at);
            }
            assertEquals(1, nans);
        }
    }

    @Test
    void decodeTablesMatchTorch() {
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(DIR.resolve("codec.safetensors"))) {
            int[] bits = ck.readInt("f16_bits");
            float[] want = ck.readFloat("f16_as_f32");
            for (int i = 0; i < bits.length; i++) {
                float got = DTypeCodec.f16ToFloat((short) bits[i]);
                if (Float.isNaN(want[i])) assertTrue(Float.isNaN(got), "f16 0x" + Integer.toHexString(bits[i]));
                else assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got), "f16 0x" + Integer.toHexString(bits[i]));
            }
            int[] all = ck.readInt("fp8_all");
            float[] want8 = ck.readFloat("fp8_as_f32");
            assertEquals(256, all.length);
            for (int i = 0; i < 256; i++) {
                float got = DTypeCodec.fp8e4m3ToFloat((byte) all[i]);
                if (Float.isNaN(want8[i])) assertTrue(Float.isNaN(got), "fp8 0x" + Integer.toHexString(i));
                else assertEquals(Float.floatToRawIntBits(want8[i]), Float.floatToRawIntBits(got), "fp8 0x" + Integer.toHexString(i));
            }
            // The F16 and F8_E4M3 tensors read through readFloat decode the same way.
            float[] viaReader = ck.readFloat("fp8");
            byte[] raw = ck.readBytes("fp8");
            for (int i = 0; i < raw.length; i++) {
                assertEquals(Float.floatToRawIntBits(DTypeCodec.fp8e4m3ToFloat(raw[i])), Float.floatToRawIntBits(viaReader[i]));
            }
        }
    }
}
