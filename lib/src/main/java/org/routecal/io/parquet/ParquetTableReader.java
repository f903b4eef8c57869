package org.routecal.io.parquet;

import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;
import org.routecal.RoutecalException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads a Parquet table written by {@link ParquetTableWriter} or by other tools (pyarrow, pandas): footer metadata,
 * row count, rows as light {@link Row}s, or whole columns as primitive arrays. Columns of types outside
 * {@link ParquetSchema.ColumnType} are left out (see {@link #skippedColumns()}). Reads only the columns asked for.
 */
public final class ParquetTableReader {
    private final Path file;
    private final MessageType fileType;
    private final ParquetSchema schema;
    private final List<String> skipped = new ArrayList<>();
    private final Map<String, String> metadata;
    private final long rowCount;

    private ParquetTableReader(Path file) {
        this.file = file;
        if (!Files.isRegularFile(file)) throw new RoutecalException(file + ": Parquet file not found");
        try (ParquetFileReader r = ParquetFileReader.open(new LocalInputFile(file))) {
            this.fileType = r.getFooter().getFileMetaData().getSchema();
            this.metadata = Collections.unmodifiableMap(r.getFooter().getFileMetaData().getKeyValueMetaData());
            this.rowCount = r.getRecordCount();
        } catch (IOException | RuntimeException e) {
            throw new RoutecalException(file + ": not a readable Parquet file (truncated or corrupt?): " + e.getMessage(), e);
        }
        this.schema = ParquetSchema.fromMessageType(fileType, skipped);
    }

    /** Opens a file and reads its footer. */
    public static ParquetTableReader open(Path file) { return new ParquetTableReader(file); }

    public Path file() { return file; }

    /** The readable columns. */
    public ParquetSchema schema() { return schema; }

    /** Columns of unsupported types that this reader leaves out. */
    public List<String> skippedColumns() { return Collections.unmodifiableList(skipped); }

    /** Key/value metadata of the footer (ours hold {@code format} and {@code format_version}). */
    public Map<String, String> metadata() { return metadata; }

    public long rowCount() { return rowCount; }

    /**
     * Checks that the file is our {@code format} with a version in [min, max]; otherwise throws naming what was
     * found (too old: written by an older routecal, re-run the stage; too new: upgrade routecal).
     */
    public ParquetTableReader requireFormat(String format, int minVersion, int maxVersion) {
        String f = metadata.get("format");
        if (!format.equals(f)) throw new RoutecalException(file + ": expected a '" + format + "' table but key/value metadata has format=" + f);
        int v;
        try {
            v = Integer.parseInt(metadata.get("format_version"));
        } catch (NumberFormatException e) {
            throw new RoutecalException(file + ": format_version '" + metadata.get("format_version") + "' is not an integer");
        }
        if (v > maxVersion) throw new RoutecalException(file + ": " + format + " format_version " + v + " is newer than this routecal reads (≤ " + maxVersion + "); upgrade routecal");
        if (v < minVersion) throw new RoutecalException(file + ": " + format + " format_version " + v + " is older than this routecal reads (≥ " + minVersion + "); re-run the stage that wrote it");
        return this;
    }

    /** Calls {@code action} for every row, all readable columns. */
    public void forEach(Consumer<Row> action) { forEach(null, action); }

    /** Calls {@code action} for every row, only {@code columns} (null = all readable) in file order. */
    public void forEach(List<String> columns, Consumer<Row> action) {
        ParquetSchema projected = project(columns);
        List<Type> fields = new ArrayList<>();
        for (ParquetSchema.Column c : projected.columns()) fields.add(fileType.getType(c.name()));
        MessageType requested = new MessageType(fileType.getName(), fields);
        try (ParquetReader<Row> r = new Builder(new LocalInputFile(file), new PlainParquetConfiguration(), new RowReadSupport(projected, requested)).build()) {
            for (Row row = r.read(); row != null; row = r.read()) action.accept(row);
        } catch (IOException e) {
            throw new RoutecalException(file + ": reading rows failed (truncated or corrupt?): " + e.getMessage(), e);
        }
    }

    /** All rows in memory. */
    public List<Row> readAll() {
        List<Row> out = new ArrayList<>();
        forEach(out::add);
        return out;
    }

    /**
     * One whole column: int[] (INT32), long[] (INT64), float[] (FLOAT), double[] (DOUBLE), boolean[] (BOOLEAN),
     * String[] (STRING), int[][] (INT32_LIST, INT16_LIST), float[][] (FLOAT_LIST). Nulls: NaN in float/double
     * columns, null in String and list columns, an error in the others.
     */
    public Object readColumn(String name) {
        ParquetSchema.Column c = columnInfo(name);
        int n = Math.toIntExact(rowCount);
        Object out = switch (c.type()) {
            case INT32 -> new int[n];
            case INT64 -> new long[n];
            case FLOAT -> new float[n];
            case DOUBLE -> new double[n];
            case BOOLEAN -> new boolean[n];
            case STRING -> new String[n];
            case INT32_LIST, INT16_LIST -> new int[n][];
            case FLOAT_LIST -> new float[n][];
        };
        int[] i = {0};
        forEach(List.of(name), row -> {
            Object v = row.get(0);
            int k = i[0]++;
            if (v == null && (c.type() == ParquetSchema.ColumnType.INT32 || c.type() == ParquetSchema.ColumnType.INT64 || c.type() == ParquetSchema.ColumnType.BOOLEAN)) {
                throw new RoutecalException(file + ": column '" + name + "' row " + k + " is null; read it with forEach instead");
            }
            switch (c.type()) {
                case INT32 -> ((int[]) out)[k] = (Integer) v;
                case INT64 -> ((long[]) out)[k] = (Long) v;
                case FLOAT -> ((float[]) out)[k] = v == null ? Float.NaN : (Float) v;
                case DOUBLE -> ((double[]) out)[k] = v == null ? Double.NaN : (Double) v;
                case BOOLEAN -> ((boolean[]) out)[k] = (Boolean) v;
                case STRING -> ((String[]) out)[k] = (String) v;
                case INT32_LIST, INT16_LIST -> ((int[][]) out)[k] = (int[]) v;
                case FLOAT_LIST -> ((float[][]) out)[k] = (float[]) v;
            }
        });
        return out;
    }

    public int[] readIntColumn(String name) { return (int[]) typed(name, ParquetSchema.ColumnType.INT32); }
    public long[] readLongColumn(String name) { return (long[]) typed(name, ParquetSchema.ColumnType.INT64); }
    public float[] readFloatColumn(String name) { return (float[]) typed(name, ParquetSchema.ColumnType.FLOAT); }
    public double[] readDoubleColumn(String name) { return (double[]) typed(name, ParquetSchema.ColumnType.DOUBLE); }
    public String[] readStringColumn(String name) { return (String[]) typed(name, ParquetSchema.ColumnType.STRING); }
    public int[][] readIntListColumn(String name) { return (int[][]) typed(name, ParquetSchema.ColumnType.INT32_LIST); }
    public float[][] readFloatListColumn(String name) { return (float[][]) typed(name, ParquetSchema.ColumnType.FLOAT_LIST); }

    private Object typed(String name, ParquetSchema.ColumnType want) {
        ParquetSchema.ColumnType got = columnInfo(name).type();
        boolean ok = got == want || (want == ParquetSchema.ColumnType.INT32_LIST && got == ParquetSchema.ColumnType.INT16_LIST);
        if (!ok) throw new RoutecalException(file + ": column '" + name + "' is " + got + ", not " + want);
        return readColumn(name);
    }

    private ParquetSchema.Column columnInfo(String name) {
        int i = schema.indexOf(name);
        if (i < 0) {
            throw new RoutecalException(file + ": no column '" + name + "'" + (skipped.contains(name) ? " of a supported type" : "")
                    + " (columns: " + schema.columns().stream().map(ParquetSchema.Column::name).toList() + ")");
        }
        return schema.column(i);
    }

    private ParquetSchema project(List<String> columns) {
        if (columns == null) return schema;
        ParquetSchema.Builder b = ParquetSchema.builder(schema.name());
        for (ParquetSchema.Column c : schema.columns()) if (columns.contains(c.name())) b.column(c.name(), c.type(), c.nullable());
        for (String name : columns) columnInfo(name);
        return b.build();
    }

    private static final class Builder extends ParquetReader.Builder<Row> {
        private final ReadSupport<Row> support;

        Builder(InputFile file, ParquetConfiguration conf, ReadSupport<Row> support) {
            super(file, conf);
            this.support = support;
        }

        @Override protected ReadSupport<Row> getReadSupport() { return support; }
    }
}
