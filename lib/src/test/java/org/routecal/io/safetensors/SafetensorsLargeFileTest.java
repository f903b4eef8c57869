package org.routecal.io.safetensors;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A 2.5 GB BF16 tensor in a sparse file: rows past the 2 GB mapping limit read correctly with readFloatRows.
 * Costs a few KB of real disk where the filesystem supports sparse files; skipped otherwise.
 */
class SafetensorsLargeFileTest {
    @TempDir Path tmp;

    @Test
    void readsRowsBeyondTwoGigabytes() throws IOException {
        long rows = 327_680, cols = 4096;                       // [rows, cols] BF16 = 2.5 GiB
        long bytes = rows * cols * 2;
        // A second, small tensor after the big one starts past 2.5 GB: whole-tensor reads must work at any offset.
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"model.embed_tokens.weight\":{\"dtype\":\"BF16\",\"shape\":[" + rows + "," + cols
                + "],\"data_offsets\":[0," + bytes + "]},\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":["
                + bytes + "," + (bytes + 16) + "]}}";
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        int pad = (8 - h.length % 8) % 8;
        long dataStart = 8 + h.length + pad;
        Path p = tmp.resolve("big.safetensors");
        long usableBefore = Files.getFileStore(tmp).getUsableSpace();
        Assumptions.assumeTrue(usableBefore > 4L << 30 || sparseWorks(tmp), "filesystem has no room and no sparse files: skipped");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            ByteBuffer head = ByteBuffer.allocate((int) dataStart).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(h.length + pad).put(h);
            while (head.hasRemaining()) head.put((byte) ' ');
            f.write(head.array());
            try {
                f.setLength(dataStart + bytes + 16);
            } catch (IOException e) {
                Assumptions.abort("cannot create a 2.5 GB sparse file here: " + e.getMessage());
            }
            // Rows 300000..300002 (byte offset ≈ 2.46 GB) and the last row hold known bf16 values.
            for (long r : new long[] {300_000, 300_001, 300_002, rows - 1}) {
                ByteBuffer row = ByteBuffer.allocate((int) cols * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (int c = 0; c < cols; c++) row.putShort(DTypeCodec.floatToBf16(value(r, c)));
                f.seek(dataStart + r * cols * 2);
                f.write(row.array());
            }
            f.seek(dataStart + bytes);
            ByteBuffer norm = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            norm.asFloatBuffer().put(new float[] {1.5f, -2f, 3.25f, 1e-3f});
            f.write(norm.array());
        }
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(p)) {
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 1e-3f}, ck.readFloat("model.norm.weight"));
            TensorInfo t = ck.info("model.embed_tokens.weight");
            assertEquals(bytes, t.byteLength());
            float[] got = ck.readFloatRows(t.name(), 300_000, 3);
            assertEquals(3 * cols, got.length);
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < cols; c++) {
                    assertEquals(DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(value(300_000 + r, c))), got[(int) (r * cols + c)]);
                }
            }
            float[] last = ck.readFloatRows(t.name(), rows - 1, 1);
            assertEquals(DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(value(rows - 1, 17))), last[17]);
            assertEquals(0f, ck.readFloatRows(t.name(), 5, 1)[0], "unwritten (sparse) rows read as zero");
            assertTrue(assertThrows(org.routecal.RoutecalException.class, () -> ck.readFloat(t.name())).getMessage().contains("by rows"));
        }
    }

    private static float value(long r, int c) { return (float) ((r % 1000) - 500) * 0.25f + c * 0.001f; }

    /** Whether a 1 GB setLength allocates nothing (sparse), for filesystems low on space. */
    private static boolean sparseWorks(Path dir) throws IOException {
        Path probe = dir.resolve("probe");
        long before = Files.getFileStore(dir).getUsableSpace();
        try (RandomAccessFile f = new RandomAccessFile(probe.toFile(), "rw")) {
            f.setLength(1L << 30);
        } catch (IOException e) {
            return false;
        }
        long after = Files.getFileStore(dir).getUsableSpace();
        Files.delete(probe);
        return before - after < 64L << 20;
    }
}
