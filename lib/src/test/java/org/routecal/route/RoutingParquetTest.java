package org.routecal.route;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.io.safetensors.DTypeCodec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoutingParquetTest {
    static final RoutingGeometry G = new RoutingGeometry(new int[]{1, 2, 4}, 16, 4);

    @Test
    void roundTripInBatchesOfAnySize(@TempDir Path dir) {
        RoutingBatch a = RandomRouting.batch(G, 300, 7, 1), b = RandomRouting.batch(G, 55, 2, 2);
        Path f = dir.resolve("routing.parquet");
        try (RoutingParquet.Writer w = new RoutingParquet.Writer(f, G, "fp-123")) {
            w.write(a);
            w.write(b);
        }
        assertTrue(Files.exists(f));
        assertTrue(!Files.exists(dir.resolve("routing.parquet.tmp")));
        List<RoutingBatch> got = new ArrayList<>();
        RoutingParquet.Header h = RoutingParquet.read(f, 128, got::add);
        assertEquals(G, h.geometry());
        assertEquals("fp-123", h.modelFingerprint());
        assertEquals(355, h.rows());
        assertEquals(List.of(128, 128, 99), got.stream().map(RoutingBatch::tokens).toList());
        int t = 0;
        for (RoutingBatch r : got) {
            for (int i = 0; i < r.tokens(); i++, t++) {
                RoutingBatch src = t < 300 ? a : b;
                int s = t < 300 ? t : t - 300;
                assertEquals(src.sampleIndex()[s], r.sampleIndex()[i]);
                assertEquals(src.position()[s], r.position()[i]);
                assertEquals(src.tokenId()[s], r.tokenId()[i]);
                assertEquals(src.charStart()[s], r.charStart()[i]);
                assertEquals(src.charEnd()[s], r.charEnd()[i]);
                int p = G.picksPerToken();
                for (int j = 0; j < p; j++) {
                    assertEquals(src.expertIds()[s * p + j], r.expertIds()[i * p + j]);
                    float expected = DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(src.weights()[s * p + j]));
                    assertEquals(expected, r.weights()[i * p + j], 0f);
                }
            }
        }
    }

    @Test
    void wrongFormatAndGeometryAreRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("routing.parquet");
        try (RoutingParquet.Writer w = new RoutingParquet.Writer(f, G, "fp")) {
            RoutecalException e = assertThrows(RoutecalException.class,
                    () -> w.write(RandomRouting.batch(new RoutingGeometry(new int[]{0}, 16, 4), 3, 1, 1)));
            assertTrue(e.getMessage().contains("differs"), e.getMessage());
        }
        Path junk = dir.resolve("junk.parquet");
        Files.writeString(junk, "not parquet");
        RoutecalException e = assertThrows(RoutecalException.class, () -> RoutingParquet.header(junk));
        assertTrue(e.getMessage().contains("junk.parquet"), e.getMessage());
        byte[] bytes = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.parquet");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        e = assertThrows(RoutecalException.class, () -> RoutingParquet.header(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void idsSurviveAtFullQwenWidth(@TempDir Path dir) {
        RoutingGeometry q = new RoutingGeometry(java.util.stream.IntStream.range(0, 48).toArray(), 128, 8);
        RoutingBatch a = RandomRouting.batch(q, 40, 2, 3);
        Path f = dir.resolve("r.parquet");
        try (RoutingParquet.Writer w = new RoutingParquet.Writer(f, q, "fp")) { w.write(a); }
        List<RoutingBatch> got = new ArrayList<>();
        RoutingParquet.read(f, 1000, got::add);
        assertArrayEquals(a.expertIds(), got.get(0).expertIds());
    }
}
