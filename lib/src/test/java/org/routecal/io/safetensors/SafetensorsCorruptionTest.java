package org.routecal.io.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Damaged files fail at open with a message naming the file, the tensor and the likely cause. */
class SafetensorsCorruptionTest {
    @TempDir Path tmp;

    private static byte[] file(String headerJson, int dataBytes) {
        byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    private String openFails(byte[] bytes, String... mustContain) throws IOException {
        Path p = tmp.resolve("bad.safetensors");
        Files.write(p, bytes);
        RoutecalException e = assertThrows(RoutecalException.class, () -> SafetensorsCheckpoint.open(p).close());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        for (String s : mustContain) assertTrue(e.getMessage().contains(s), "'" + s + "' missing from: " + e.getMessage());
        return e.getMessage();
    }

    private Path good() {
        Path p = tmp.resolve("good.safetensors");
        try (SafetensorsWriter w = SafetensorsWriter.toFile(p, Map.of("format", "pt"))) {
            w.addFloat("a", DType.F32, new long[] {4, 4}, new float[16]);
            w.addFloat("b", DType.BF16, new long[] {8}, new float[8]);
        }
        return p;
    }

    @Test
    void truncatedDataIsReported() throws IOException {
        byte[] ok = Files.readAllBytes(good());
        openFails(Arrays.copyOf(ok, ok.length - 3), "truncated?");
        openFails(Arrays.copyOf(ok, 5), "truncated?");
    }

    @Test
    void headerLengthPastEndOfFile() throws IOException {
        byte[] ok = Files.readAllBytes(good());
        ByteBuffer.wrap(ok).order(ByteOrder.LITTLE_ENDIAN).putLong(0, ok.length);
        openFails(ok, "header length", "truncated?");
        ByteBuffer.wrap(ok).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -5);
        openFails(ok, "not plausible");
    }

    @Test
    void bitFlipInHeaderIsInvalidJsonOrMismatch() throws IOException {
        byte[] ok = Files.readAllBytes(good());
        String header = new String(ok, 8, (int) ByteBuffer.wrap(ok).order(ByteOrder.LITTLE_ENDIAN).getLong(0), StandardCharsets.UTF_8);
        int brace = header.indexOf('{', 1);
        byte[] flipped = ok.clone();
        flipped[8 + brace] ^= 0x04; // '{' → '\x7f'
        openFails(flipped, "not valid JSON");
        // Flip a digit of a data offset: either the byte count or the tiling no longer holds.
        int digit = header.indexOf("\"data_offsets\":[0,") + "\"data_offsets\":[0,".length();
        flipped = ok.clone();
        flipped[8 + digit] ^= 0x01;
        openFails(flipped, "'a'");
    }

    @Test
    void offsetProblemsNameTheTensor() throws IOException {
        openFails(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
                "'y'", "overlap", "'x'");
        openFails(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16),
                "'y'", "not contiguous");
        openFails(file("{\"x\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "'x'", "needs 6", "mismatch");
        openFails(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12), "trailing");
        openFails(file("{\"x\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8), "'x'", "F64", "supported");
        openFails(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0), "'x'", "negative");
        openFails(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "'x'", "data_offsets");
        openFails(file("[1,2]", 0), "not a JSON object");
        openFails(file("{\"x\":{},\"x\":{}}", 0), "not valid JSON");
    }

    @Test
    void shardProblemsNameIndexShardAndTensor() throws IOException {
        Path dir = tmp.resolve("ck");
        try (SafetensorsWriter w = SafetensorsWriter.sharded(dir, 64, Map.of())) {
            w.addFloat("model.a", DType.F32, new long[] {16}, new float[16]);
            w.addFloat("model.b", DType.F32, new long[] {16}, new float[16]);
        }
        Path index = dir.resolve("model.safetensors.index.json");
        String text = Files.readString(index);
        Files.writeString(index, text.replace("\"model.b\"", "\"model.c\""));
        RoutecalException e = assertThrows(RoutecalException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("'model.c'") && e.getMessage().contains("model-00002-of-00002.safetensors")
                && e.getMessage().contains("does not contain"), e.getMessage());
        Files.writeString(index, text);
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        e = assertThrows(RoutecalException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains("model-00002-of-00002.safetensors")
                && e.getMessage().contains("'model.b'") && e.getMessage().contains("does not exist"), e.getMessage());
        Files.writeString(index, "{\"weight_map\": ");
        e = assertThrows(RoutecalException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains("JSON"), e.getMessage());
    }

    @Test
    void readErrorsNameTheTensor() {
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(good())) {
            assertTrue(assertThrows(RoutecalException.class, () -> ck.readFloat("nope")).getMessage().contains("'nope'"));
            assertTrue(assertThrows(RoutecalException.class, () -> ck.readInt("a")).getMessage().contains("'a' is F32"));
            assertTrue(assertThrows(RoutecalException.class, () -> ck.readFloatRows("a", 3, 2)).getMessage().contains("rows [3, 5) outside [0, 4)"));
        }
        float[] v = {1, 2, Float.NaN};
        RoutecalException e = assertThrows(RoutecalException.class, () -> SafetensorsCheckpoint.checkFinite("w", v));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("element 2"), e.getMessage());
        SafetensorsCheckpoint.checkFinite("ok", new float[] {1, -2, 3e38f});
    }
}
