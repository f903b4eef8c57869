package org.routecal.io.parquet;

import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A flat table schema: scalar columns plus list columns for compact per-token arrays (e.g. top-k expert ids of every
 * layer). Lists are written in the standard 3-level form ({@code <list> (LIST) { repeated group list { required
 * <t> element } }}) that pyarrow, Spark and DuckDB read; INT16 lists are physical INT32 with the INT(16, signed)
 * annotation, which Parquet's RLE/bit-packing stores in as few bits as the values need.
 */
public final class ParquetSchema {
    /** Column types. List types hold {@code int[]} (INT32_LIST, INT16_LIST) or {@code float[]} (FLOAT_LIST) values. */
    public enum ColumnType { INT32, INT64, FLOAT, DOUBLE, STRING, BOOLEAN, INT32_LIST, INT16_LIST, FLOAT_LIST;
        public boolean isList() { return this == INT32_LIST || this == INT16_LIST || this == FLOAT_LIST; }
    }

    /** One column; a nullable column accepts {@code null} (written as an absent optional value). */
    public record Column(String name, ColumnType type, boolean nullable) {}

    private final String name;
    private final List<Column> columns;
    private final Map<String, Integer> index = new LinkedHashMap<>();

    private ParquetSchema(String name, List<Column> columns) {
        this.name = name;
        this.columns = Collections.unmodifiableList(new ArrayList<>(columns));
        for (int i = 0; i < columns.size(); i++) {
            if (index.put(columns.get(i).name(), i) != null) throw new IllegalArgumentException("duplicate column " + columns.get(i).name());
        }
    }

    public static Builder builder(String name) { return new Builder(name); }

    /** Builder; columns keep the order they are added in. */
    public static final class Builder {
        private final String name;
        private final List<Column> columns = new ArrayList<>();

        private Builder(String name) { this.name = name; }

        public Builder column(String name, ColumnType type, boolean nullable) { columns.add(new Column(name, type, nullable)); return this; }
        public Builder int32(String name) { return column(name, ColumnType.INT32, false); }
        public Builder int64(String name) { return column(name, ColumnType.INT64, false); }
        public Builder float32(String name) { return column(name, ColumnType.FLOAT, false); }
        public Builder float64(String name) { return column(name, ColumnType.DOUBLE, false); }
        public Builder string(String name) { return column(name, ColumnType.STRING, false); }
        public Builder bool(String name) { return column(name, ColumnType.BOOLEAN, false); }
        public Builder int32List(String name) { return column(name, ColumnType.INT32_LIST, false); }
        public Builder int16List(String name) { return column(name, ColumnType.INT16_LIST, false); }
        public Builder floatList(String name) { return column(name, ColumnType.FLOAT_LIST, false); }
        /** Makes the last added column nullable. */
        public Builder nullable() {
            Column c = columns.remove(columns.size() - 1);
            columns.add(new Column(c.name(), c.type(), true));
            return this;
        }
        public ParquetSchema build() { return new ParquetSchema(name, columns); }
    }

    public String name() { return name; }
    public List<Column> columns() { return columns; }
    public int size() { return columns.size(); }
    public Column column(int i) { return columns.get(i); }

    /** Index of a column, or -1. */
    public int indexOf(String column) { return index.getOrDefault(column, -1); }

    public boolean has(String column) { return index.containsKey(column); }

    /** The Parquet message type written for this schema. */
    public MessageType toMessageType() {
        Types.MessageTypeBuilder b = Types.buildMessage();
        for (Column c : columns) b.addField(toType(c));
        return b.named(name);
    }

    private static Type toType(Column c) {
        Type.Repetition rep = c.nullable() ? Type.Repetition.OPTIONAL : Type.Repetition.REQUIRED;
        return switch (c.type()) {
            case INT32 -> Types.primitive(PrimitiveTypeName.INT32, rep).named(c.name());
            case INT64 -> Types.primitive(PrimitiveTypeName.INT64, rep).named(c.name());
            case FLOAT -> Types.primitive(PrimitiveTypeName.FLOAT, rep).named(c.name());
            case DOUBLE -> Types.primitive(PrimitiveTypeName.DOUBLE, rep).named(c.name());
            case BOOLEAN -> Types.primitive(PrimitiveTypeName.BOOLEAN, rep).named(c.name());
            case STRING -> Types.primitive(PrimitiveTypeName.BINARY, rep).as(LogicalTypeAnnotation.stringType()).named(c.name());
            case INT32_LIST -> list(c.name(), rep, Types.required(PrimitiveTypeName.INT32).named("element"));
            case INT16_LIST -> list(c.name(), rep, Types.required(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.intType(16, true)).named("element"));
            case FLOAT_LIST -> list(c.name(), rep, Types.required(PrimitiveTypeName.FLOAT).named("element"));
        };
    }

    private static Type list(String name, Type.Repetition rep, Type element) {
        return Types.buildGroup(rep).as(LogicalTypeAnnotation.listType())
                .addField(Types.repeatedGroup().addField(element).named("list")).named(name);
    }

    /**
     * The readable part of a file's schema: top-level primitives of the supported types (any repetition but
     * repeated, which becomes a list) and lists in the standard 3-level form or the legacy {@code repeated <t>} form.
     * Other columns (nested structs, maps, decimals …) are left out and named in {@code skipped}.
     */
    static ParquetSchema fromMessageType(MessageType mt, List<String> skipped) {
        List<Column> cols = new ArrayList<>();
        for (Type t : mt.getFields()) {
            ColumnType ct = classify(t);
            if (ct == null) skipped.add(t.getName());
            else cols.add(new Column(t.getName(), ct, t.isRepetition(Type.Repetition.OPTIONAL)));
        }
        return new ParquetSchema(mt.getName(), cols);
    }

    private static ColumnType classify(Type t) {
        if (t.isPrimitive()) {
            PrimitiveType p = t.asPrimitiveType();
            if (t.isRepetition(Type.Repetition.REPEATED)) return listOf(p);
            LogicalTypeAnnotation a = p.getLogicalTypeAnnotation();
            return switch (p.getPrimitiveTypeName()) {
                case INT32 -> a == null || a instanceof LogicalTypeAnnotation.IntLogicalTypeAnnotation ? ColumnType.INT32 : null;
                case INT64 -> a == null || a instanceof LogicalTypeAnnotation.IntLogicalTypeAnnotation ? ColumnType.INT64 : null;
                case FLOAT -> ColumnType.FLOAT;
                case DOUBLE -> ColumnType.DOUBLE;
                case BOOLEAN -> ColumnType.BOOLEAN;
                case BINARY -> a instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation ? ColumnType.STRING : null;
                default -> null;
            };
        }
        GroupType g = t.asGroupType();
        if (!(g.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation) || g.getFieldCount() != 1) return null;
        Type rep = g.getType(0);
        if (!rep.isRepetition(Type.Repetition.REPEATED)) return null;
        if (rep.isPrimitive()) return listOf(rep.asPrimitiveType());
        GroupType rg = rep.asGroupType();
        if (rg.getFieldCount() != 1 || !rg.getType(0).isPrimitive() || rg.getType(0).isRepetition(Type.Repetition.REPEATED)) return null;
        return listOf(rg.getType(0).asPrimitiveType());
    }

    private static ColumnType listOf(PrimitiveType p) {
        LogicalTypeAnnotation a = p.getLogicalTypeAnnotation();
        return switch (p.getPrimitiveTypeName()) {
            case INT32 -> a instanceof LogicalTypeAnnotation.IntLogicalTypeAnnotation i && i.getBitWidth() <= 16 ? ColumnType.INT16_LIST
                    : a == null || a instanceof LogicalTypeAnnotation.IntLogicalTypeAnnotation ? ColumnType.INT32_LIST : null;
            case FLOAT -> ColumnType.FLOAT_LIST;
            default -> null;
        };
    }

    @Override
    public String toString() { return toMessageType().toString(); }
}
