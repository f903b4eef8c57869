package org.routecal.io.parquet;

import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.hadoop.api.InitContext;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.Converter;
import org.apache.parquet.io.api.GroupConverter;
import org.apache.parquet.io.api.PrimitiveConverter;
import org.apache.parquet.io.api.RecordMaterializer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

import java.util.Arrays;
import java.util.Map;

/**
 * Materialises {@link Row}s for a projection of the file schema straight from the column readers (no Group
 * objects); lists in the 3-level or the legacy repeated-primitive form become int[] / float[].
 */
final class RowReadSupport extends ReadSupport<Row> {
    private final ParquetSchema schema;   // the projected columns, in file order
    private final MessageType requested;

    RowReadSupport(ParquetSchema schema, MessageType requested) {
        this.schema = schema;
        this.requested = requested;
    }

    @Override
    public ReadContext init(InitContext context) { return new ReadContext(requested); }

    @Override
    public RecordMaterializer<Row> prepareForRead(org.apache.hadoop.conf.Configuration conf, Map<String, String> meta, MessageType file, ReadContext ctx) {
        return new Materializer();
    }

    @Override
    public RecordMaterializer<Row> prepareForRead(ParquetConfiguration conf, Map<String, String> meta, MessageType file, ReadContext ctx) {
        return new Materializer();
    }

    private final class Materializer extends RecordMaterializer<Row> {
        private final Object[] values = new Object[schema.size()];
        private final Buf[] lists = new Buf[schema.size()];
        private final boolean[] present = new boolean[schema.size()];
        private final Converter[] converters = new Converter[schema.size()];
        private long rows;

        Materializer() {
            for (int i = 0; i < schema.size(); i++) {
                final int col = i;
                Type t = requested.getType(i);
                if (!schema.column(i).type().isList()) {
                    converters[i] = new PrimitiveConverter() {
                        @Override public void addInt(int v) { values[col] = v; }
                        @Override public void addLong(long v) { values[col] = v; }
                        @Override public void addFloat(float v) { values[col] = v; }
                        @Override public void addDouble(double v) { values[col] = v; }
                        @Override public void addBoolean(boolean v) { values[col] = v; }
                        @Override public void addBinary(Binary v) { values[col] = v.toStringUsingUTF8(); }
                    };
                    continue;
                }
                lists[i] = new Buf(schema.column(i).type() == ParquetSchema.ColumnType.FLOAT_LIST);
                Converter element = lists[i].appender();
                if (t.isPrimitive()) {          // legacy: repeated <t> name
                    converters[i] = element;
                    continue;
                }
                Type repeated = t.asGroupType().getType(0);
                Converter inner = repeated.isPrimitive() ? element : group(element, null);
                converters[i] = group(inner, () -> present[col] = true);
            }
        }

        private GroupConverter group(Converter child, Runnable onStart) {
            return new GroupConverter() {
                @Override public Converter getConverter(int fieldIndex) { return child; }
                @Override public void start() { if (onStart != null) onStart.run(); }
                @Override public void end() {}
            };
        }

        private final GroupConverter root = new GroupConverter() {
            @Override public Converter getConverter(int fieldIndex) { return converters[fieldIndex]; }

            @Override
            public void start() {
                Arrays.fill(values, null);
                Arrays.fill(present, false);
                for (Buf b : lists) if (b != null) b.n = 0;
            }

            @Override
            public void end() {
                for (int i = 0; i < lists.length; i++) {
                    if (lists[i] == null) continue;
                    boolean legacy = requested.getType(i).isPrimitive();
                    if (legacy || present[i]) values[i] = lists[i].toArray();
                }
            }
        };

        @Override public Row getCurrentRecord() { return new Row(schema, values.clone(), rows++); }

        @Override public GroupConverter getRootConverter() { return root; }
    }

    /** A growable int or float buffer for one list column of the current row. */
    private static final class Buf {
        final boolean floats;
        int[] ints = new int[16];
        float[] fls = new float[16];
        int n;

        Buf(boolean floats) { this.floats = floats; }

        PrimitiveConverter appender() {
            return new PrimitiveConverter() {
                @Override public void addInt(int v) {
                    if (n == ints.length) ints = Arrays.copyOf(ints, n * 2);
                    ints[n++] = v;
                }
                @Override public void addFloat(float v) {
                    if (n == fls.length) fls = Arrays.copyOf(fls, n * 2);
                    fls[n++] = v;
                }
            };
        }

        Object toArray() { return floats ? Arrays.copyOf(fls, n) : Arrays.copyOf(ints, n); }
    }
}
