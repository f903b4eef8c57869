package org.routecal.io.parquet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import tech.tablesaw.api.Table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class ParquetRoundTripTest {
    @TempDir Path tmp;

    static final ParquetSchema SCHEMA = ParquetSchema.builder("routing")
            .string("sample_id").int32("position").int64("offset").float32("score").float64("loss").bool("flag")
            .string("note").nullable().float32("maybe").nullable()
            .int16List("topk_ids").floatList("topk_weights").int32List("token_ids").int32List("opt_ids").nullable()
            .build();

    private static Object[] row(Random r, int i) {
        int[] ids = new int[16];
        short[] shortIds = new short[16];
        float[] w = new float[16];
        for (int k = 0; k < 16; k++) { ids[k] = r.nextInt(128) - (k == 0 ? 64 : 0); shortIds[k] = (short) ids[k]; w[k] = r.nextFloat(); }
        int[] tok = new int[i % 5];                       // includes empty lists
        for (int k = 0; k < tok.length; k++) tok[k] = r.nextInt(200_000);
        return new Object[] {"s" + i / 10, i % 10, (long) i << 33, r.nextFloat(), r.nextDouble(), i % 3 == 0,
                i % 4 == 0 ? null : "n\u00e9" + i, i % 7 == 0 ? null : (float) i, i % 2 == 0 ? ids : shortIds, w, tok,
                i % 6 == 0 ? null : new int[] {i}};
    }

    private Path write(int rows) {
        Path p = tmp.resolve("t.parquet");
        Random r = new Random(11);
        try (ParquetTableWriter w = ParquetTableWriter.create(p, SCHEMA, "routecal.test", 2, Map.of("model", "qwen3_moe"))) {
            for (int i = 0; i < rows; i++) w.append(row(r, i));
            assertEquals(rows, w.rows());
        }
        return p;
    }

    @Test
    void roundTripsEveryColumnType() {
        Path p = write(500);
        ParquetTableReader rd = ParquetTableReader.open(p);
        assertEquals(500, rd.rowCount());
        assertEquals("routecal.test", rd.metadata().get("format"));
        assertEquals("2", rd.metadata().get("format_version"));
        assertEquals("qwen3_moe", rd.metadata().get("model"));
        assertEquals(SCHEMA.columns(), rd.schema().columns());
        Random r = new Random(11);
        List<Row> rows = rd.readAll();
        for (int i = 0; i < 500; i++) {
            Object[] want = row(r, i);
            Row got = rows.get(i);
            assertEquals(i, got.number());
            for (int c = 0; c < want.length; c++) {
                Object w = want[c] instanceof short[] s ? toInts(s) : want[c];
                Object g = got.get(c);
                if (w instanceof int[] a) assertArrayEquals(a, (int[]) g, "row " + i + " col " + c);
                else if (w instanceof float[] a) assertArrayEquals(a, (float[]) g, "row " + i + " col " + c);
                else assertEquals(w, g, "row " + i + " col " + c);
            }
        }
        assertEquals("n\u00e91", rows.get(1).getString("note"));
        assertTrue(rows.get(0).isNull("note"));
        assertThrows(RoutecalException.class, () -> rows.get(0).getFloat("maybe"));
    }

    private static int[] toInts(short[] s) {
        int[] a = new int[s.length];
        for (int i = 0; i < s.length; i++) a[i] = s[i];
        return a;
    }

    @Test
    void readsWholeColumnsAndProjections() {
        Path p = write(300);
        ParquetTableReader rd = ParquetTableReader.open(p);
        int[] pos = rd.readIntColumn("position");
        long[] off = rd.readLongColumn("offset");
        float[] maybe = rd.readFloatColumn("maybe");
        int[][] ids = rd.readIntListColumn("topk_ids");
        float[][] w = rd.readFloatListColumn("topk_weights");
        String[] note = rd.readStringColumn("note");
        for (int i = 0; i < 300; i++) {
            assertEquals(i % 10, pos[i]);
            assertEquals((long) i << 33, off[i]);
            assertEquals(i % 7 == 0, Float.isNaN(maybe[i]));
            assertEquals(16, ids[i].length);
            assertEquals(16, w[i].length);
            assertEquals(i % 4 == 0, note[i] == null);
        }
        int[] count = {0};
        rd.forEach(List.of("topk_ids", "sample_id"), row -> {
            assertEquals(2, row.schema().size());
            assertEquals("sample_id", row.schema().column(0).name(), "projection keeps file order");
            count[0]++;
        });
        assertEquals(300, count[0]);
        RoutecalException e = assertThrows(RoutecalException.class, () -> rd.readIntColumn("nope"));
        assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains(p.toString()), e.getMessage());
        e = assertThrows(RoutecalException.class, () -> rd.readIntColumn("score"));
        assertTrue(e.getMessage().contains("FLOAT, not INT32"), e.getMessage());
    }

    @Test
    void formatVersionIsChecked() {
        ParquetTableReader rd = ParquetTableReader.open(write(3));
        rd.requireFormat("routecal.test", 1, 2);
        assertTrue(assertThrows(RoutecalException.class, () -> rd.requireFormat("routecal.test", 1, 1)).getMessage().contains("newer"));
        assertTrue(assertThrows(RoutecalException.class, () -> rd.requireFormat("routecal.test", 3, 4)).getMessage().contains("older"));
        assertTrue(assertThrows(RoutecalException.class, () -> rd.requireFormat("routecal.other", 1, 2)).getMessage().contains("format=routecal.test"));
    }

    @Test
    void badRowsAndAbortLeaveNoFile() throws IOException {
        Path p = tmp.resolve("bad.parquet");
        ParquetTableWriter w = ParquetTableWriter.create(p, SCHEMA, "routecal.test", 1, Map.of());
        Object[] bad = row(new Random(1), 1);
        bad[1] = "not an int";
        RoutecalException e = assertThrows(RoutecalException.class, () -> w.append(bad));
        assertTrue(e.getMessage().contains("'position'") && e.getMessage().contains("row 0"), e.getMessage());
        Object[] nul = row(new Random(1), 1);
        nul[0] = null;
        assertThrows(RoutecalException.class, () -> w.append(nul));
        Object[] range = row(new Random(1), 1);
        range[8] = new int[] {40_000};
        String msg = assertThrows(RoutecalException.class, () -> w.append(range)).getMessage();
        assertTrue(msg.contains("int16"), msg);
        w.append(row(new Random(1), 1));
        w.abort();
        try (Stream<Path> s = Files.list(tmp)) { assertEquals(0, s.count()); }
    }

    @Test
    void truncatedFileIsAClearError() throws IOException {
        Path p = write(50);
        byte[] b = Files.readAllBytes(p);
        Files.write(p, java.util.Arrays.copyOf(b, b.length - 20));
        RoutecalException e = assertThrows(RoutecalException.class, () -> ParquetTableReader.open(p));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void toTablesawKeepsScalarsAndOptionallyListsAsText() {
        Path p = write(40);
        Table t = ParquetTables.toTablesaw(p);
        assertEquals(40, t.rowCount());
        assertEquals(List.of("sample_id", "position", "offset", "score", "loss", "flag", "note", "maybe"), t.columnNames());
        assertEquals(7, t.intColumn("position").getInt(17));
        assertTrue(t.column("note").isMissing(0));
        assertTrue(t.column("maybe").isMissing(7));
        Table withLists = ParquetTables.toTablesaw(p, true);
        assertEquals(12, withLists.columnCount());
        int[] ids = ParquetTableReader.open(p).readIntListColumn("token_ids")[3];
        assertEquals(3, ids.length);
        assertEquals(ids[0] + "," + ids[1] + "," + ids[2], withLists.stringColumn("token_ids").get(3));
    }
}
