package org.routecal.quant.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;
import org.routecal.RoutecalException;

/**
 * A flat Parquet table (quant_report.parquet, eval.parquet): named columns of INT32, INT64, DOUBLE, STRING or
 * BOOLEAN, every column optional (null allowed), ZSTD, key/value metadata carrying {@code format} and
 * {@code format_version}; written to a temp file and renamed on close. Stand-in until the io area's generic
 * ParquetTableWriter lands on main.
 */
public final class FlatParquet {
    private FlatParquet() {}

    public enum Kind { INT32, INT64, DOUBLE, STRING, BOOLEAN }

    public record Column(String name, Kind kind) {}

    /** Writes {@code rows} (each Object[] in column order; Integer, Long, Double, String, Boolean or null). */
    public static void write(Path file, List<Column> columns, List<Object[]> rows, Map<String, String> metadata) {
        Types.MessageTypeBuilder b = Types.buildMessage();
        for (Column c : columns) {
            switch (c.kind()) {
                case INT32 -> b.optional(PrimitiveTypeName.INT32).named(c.name());
                case INT64 -> b.optional(PrimitiveTypeName.INT64).named(c.name());
                case DOUBLE -> b.optional(PrimitiveTypeName.DOUBLE).named(c.name());
                case BOOLEAN -> b.optional(PrimitiveTypeName.BOOLEAN).named(c.name());
                case STRING -> b.optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(c.name());
            }
        }
        MessageType schema = b.named("table");
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            try (ParquetWriter<Object[]> w = new Builder(new LocalOutputFile(tmp), schema, columns, metadata)
                    .withConf(new PlainParquetConfiguration()).withCompressionCodec(CompressionCodecName.ZSTD).build()) {
                for (Object[] r : rows) w.write(r);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new RoutecalException(file + ": cannot write Parquet table: " + e.getMessage(), e);
        }
    }

    /** A table read back: column names in order, rows as maps, and the key/value metadata. */
    public record Table(List<String> columns, List<Map<String, Object>> rows, Map<String, String> metadata) {}

    public static Table read(Path file) {
        if (!Files.isRegularFile(file)) throw new RoutecalException(file + ": no such file");
        try (ParquetFileReader fr = ParquetFileReader.open(new LocalInputFile(file))) {
            Map<String, String> meta = fr.getFooter().getFileMetaData().getKeyValueMetaData();
            MessageType schema = fr.getFooter().getFileMetaData().getSchema();
            List<String> names = new ArrayList<>();
            for (Type t : schema.getFields()) names.add(t.getName());
            List<Map<String, Object>> rows = new ArrayList<>();
            try (ParquetReader<Group> r = new GroupReader(new LocalInputFile(file)).build()) {
                for (Group g; (g = r.read()) != null; ) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 0; i < names.size(); i++) {
                        Object v = null;
                        if (g.getFieldRepetitionCount(i) > 0) {
                            v = switch (schema.getType(i).asPrimitiveType().getPrimitiveTypeName()) {
                                case INT32 -> g.getInteger(i, 0);
                                case INT64 -> g.getLong(i, 0);
                                case DOUBLE -> g.getDouble(i, 0);
                                case BOOLEAN -> g.getBoolean(i, 0);
                                default -> g.getString(i, 0);
                            };
                        }
                        row.put(names.get(i), v);
                    }
                    rows.add(row);
                }
            }
            return new Table(names, rows, meta);
        } catch (IOException | RuntimeException e) {
            throw new RoutecalException(file + ": not a readable Parquet file (truncated?): " + e.getMessage(), e);
        }
    }

    private static final class Builder extends ParquetWriter.Builder<Object[], Builder> {
        private final MessageType schema;
        private final List<Column> columns;
        private final Map<String, String> meta;

        Builder(LocalOutputFile file, MessageType schema, List<Column> columns, Map<String, String> meta) {
            super(file);
            this.schema = schema;
            this.columns = columns;
            this.meta = meta;
        }

        @Override protected Builder self() { return this; }

        @Override protected WriteSupport<Object[]> getWriteSupport(org.apache.hadoop.conf.Configuration conf) { return new RowSupport(schema, columns, meta); }

        @Override protected WriteSupport<Object[]> getWriteSupport(org.apache.parquet.conf.ParquetConfiguration conf) { return new RowSupport(schema, columns, meta); }
    }

    private static final class RowSupport extends WriteSupport<Object[]> {
        private final MessageType schema;
        private final List<Column> columns;
        private final Map<String, String> meta;
        private RecordConsumer out;

        RowSupport(MessageType schema, List<Column> columns, Map<String, String> meta) {
            this.schema = schema;
            this.columns = columns;
            this.meta = meta;
        }

        @Override public WriteContext init(org.apache.hadoop.conf.Configuration conf) { return new WriteContext(schema, new HashMap<>(meta)); }

        @Override public WriteContext init(org.apache.parquet.conf.ParquetConfiguration conf) { return new WriteContext(schema, new HashMap<>(meta)); }

        @Override public void prepareForWrite(RecordConsumer rc) { this.out = rc; }

        @Override public void write(Object[] row) {
            out.startMessage();
            for (int i = 0; i < columns.size(); i++) {
                Object v = row[i];
                if (v == null) continue;
                Column c = columns.get(i);
                out.startField(c.name(), i);
                switch (c.kind()) {
                    case INT32 -> out.addInteger(((Number) v).intValue());
                    case INT64 -> out.addLong(((Number) v).longValue());
                    case DOUBLE -> out.addDouble(((Number) v).doubleValue());
                    case BOOLEAN -> out.addBoolean((Boolean) v);
                    case STRING -> out.addBinary(Binary.fromString(v.toString()));
                }
                out.endField(c.name(), i);
            }
            out.endMessage();
        }
    }

    private static final class GroupReader extends ParquetReader.Builder<Group> {
        GroupReader(LocalInputFile f) { super(f, new PlainParquetConfiguration()); }

        @Override protected ReadSupport<Group> getReadSupport() { return new GroupReadSupport(); }
    }
}
