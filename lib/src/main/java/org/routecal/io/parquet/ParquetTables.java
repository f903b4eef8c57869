package org.routecal.io.parquet;

import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.FloatColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Parquet → Tablesaw bridge (Tablesaw has no Parquet reader that resolves with our versions). Scalar columns map
 * one to one (INT32 → IntColumn, INT64 → LongColumn, FLOAT → FloatColumn, DOUBLE → DoubleColumn, STRING →
 * StringColumn, BOOLEAN → BooleanColumn; nulls become missing values). List columns are skipped by default — a
 * routing table holds hundreds of values per row — or, on request, rendered as comma-separated StringColumns.
 */
public final class ParquetTables {
    private ParquetTables() {}

    /** Scalar columns only; list columns are skipped. */
    public static Table toTablesaw(Path file) { return toTablesaw(file, false); }

    /** As {@link #toTablesaw(Path)}; with {@code listsAsText} list columns become StringColumns like "3,17,42". */
    public static Table toTablesaw(Path file, boolean listsAsText) {
        ParquetTableReader r = ParquetTableReader.open(file);
        List<String> names = new ArrayList<>();
        List<Column<?>> cols = new ArrayList<>();
        for (ParquetSchema.Column c : r.schema().columns()) {
            if (c.type().isList() && !listsAsText) continue;
            names.add(c.name());
            cols.add(switch (c.type()) {
                case INT32 -> IntColumn.create(c.name());
                case INT64 -> LongColumn.create(c.name());
                case FLOAT -> FloatColumn.create(c.name());
                case DOUBLE -> DoubleColumn.create(c.name());
                case BOOLEAN -> BooleanColumn.create(c.name());
                default -> StringColumn.create(c.name());
            });
        }
        String fileName = file.getFileName().toString();
        Table t = Table.create(fileName.endsWith(".parquet") ? fileName.substring(0, fileName.length() - 8) : fileName);
        if (names.isEmpty()) return t;
        r.forEach(names, row -> {
            for (int i = 0; i < cols.size(); i++) append(cols.get(i), row.get(i));
        });
        cols.forEach(t::addColumns);
        return t;
    }

    private static void append(Column<?> col, Object v) {
        if (v == null) {
            col.appendMissing();
            return;
        }
        if (col instanceof IntColumn c) c.append((Integer) v);
        else if (col instanceof LongColumn c) c.append((Long) v);
        else if (col instanceof FloatColumn c) c.append((Float) v);
        else if (col instanceof DoubleColumn c) c.append((Double) v);
        else if (col instanceof BooleanColumn c) c.append((Boolean) v);
        else ((StringColumn) col).append(v instanceof String s ? s : listText(v));
    }

    private static String listText(Object v) {
        StringBuilder sb = new StringBuilder();
        if (v instanceof int[] a) for (int i = 0; i < a.length; i++) sb.append(i == 0 ? "" : ",").append(a[i]);
        else { float[] a = (float[]) v; for (int i = 0; i < a.length; i++) sb.append(i == 0 ? "" : ",").append(a[i]); }
        return sb.toString();
    }
}
