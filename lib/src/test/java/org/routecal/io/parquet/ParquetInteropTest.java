package org.routecal.io.parquet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Interop with pyarrow: reads tests/fixtures/parquet/pyarrow.parquet (written by tests/make_parquet_fixture.py)
 * and writes lib/target/parquet-check/routing.parquet for tests/check_parquet.py to read back with pyarrow.
 */
class ParquetInteropTest {
    static Path fixtures() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("tests/fixtures/parquet");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("tests/fixtures/parquet not found");
    }

    @Test
    void readsWhatPyarrowWrote() throws IOException {
        Path dir = fixtures();
        JsonNode want = new ObjectMapper().readTree(dir.resolve("pyarrow.json").toFile()).get("rows");
        ParquetTableReader r = ParquetTableReader.open(dir.resolve("pyarrow.parquet"));
        r.requireFormat("pyarrow.fixture", 1, 1);
        assertEquals(want.size(), r.rowCount());
        assertEquals(List.of("meta", "when"), r.skippedColumns());
        assertEquals(ParquetSchema.ColumnType.INT16_LIST, r.schema().column(r.schema().indexOf("topk_ids")).type());
        List<Row> rows = r.readAll();
        for (int i = 0; i < rows.size(); i++) {
            Row got = rows.get(i);
            JsonNode w = want.get(i);
            String at = "row " + i;
            assertEquals(w.get("sample_id").isNull() ? null : w.get("sample_id").asText(), got.getString("sample_id"), at);
            assertEquals(w.get("position").asInt(), got.getInt("position"), at);
            assertEquals(w.get("offset").asLong(), got.getLong("offset"), at);
            assertEquals(w.get("score").asInt(), Float.floatToRawIntBits(got.getFloat("score")), at);
            assertEquals(w.get("loss").asDouble(), got.getDouble("loss"), at);
            assertEquals(w.get("flag").asBoolean(), got.getBoolean("flag"), at);
            int[] ids = got.getIntList("topk_ids");
            float[] weights = got.getFloatList("topk_weights");
            for (int k = 0; k < 8; k++) {
                assertEquals(w.get("topk_ids").get(k).asInt(), ids[k], at);
                assertEquals(w.get("topk_weights").get(k).asInt(), Float.floatToRawIntBits(weights[k]), at);
            }
            if (w.get("token_ids").isNull()) assertNull(got.getIntList("token_ids"), at);
            else assertEquals(w.get("token_ids").size(), got.getIntList("token_ids").length, at);
        }
        assertEquals(want.size(), ParquetTables.toTablesaw(dir.resolve("pyarrow.parquet")).rowCount());
    }

    /** Values tests/check_parquet.py recomputes: ids (i*7+k) % 128, weights (i+k) × 0.125. */
    @Test
    void writesFileForThePyarrowChecker() throws IOException {
        Path out = Path.of("target", "parquet-check", "routing.parquet");
        ParquetSchema schema = ParquetSchema.builder("routing").string("sample_id").int32("position").int64("offset")
                .float32("score").bool("flag").string("note").nullable().int16List("topk_ids").floatList("topk_weights").build();
        try (ParquetTableWriter w = ParquetTableWriter.create(out, schema, "routecal.check", 1, Map.of("k", "v"))) {
            for (int i = 0; i < 1000; i++) {
                int[] ids = new int[8];
                float[] wt = new float[8];
                for (int k = 0; k < 8; k++) { ids[k] = (i * 7 + k) % 128; wt[k] = (i + k) * 0.125f; }
                w.append("s" + i, i, (long) i * 3, i * 0.5f, i % 2 == 0, i % 3 == 0 ? null : "n" + i, ids, wt);
            }
        }
        assertEquals(1000, ParquetTableReader.open(out).rowCount());
    }
}
