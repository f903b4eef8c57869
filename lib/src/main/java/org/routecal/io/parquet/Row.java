package org.routecal.io.parquet;

import org.routecal.RoutecalException;

/**
 * One row read from a Parquet table: values by column index or name. Scalars are boxed (Integer, Long, Float,
 * Double, String, Boolean), lists are {@code int[]} (INT32_LIST, INT16_LIST) or {@code float[]} (FLOAT_LIST);
 * a null means an absent optional value.
 */
public final class Row {
    private final ParquetSchema schema;
    private final Object[] values;
    private final long number;

    Row(ParquetSchema schema, Object[] values, long number) {
        this.schema = schema;
        this.values = values;
        this.number = number;
    }

    public ParquetSchema schema() { return schema; }

    /** 0-based row number in the file (counting only rows this reader returned). */
    public long number() { return number; }

    public Object get(int column) { return values[column]; }

    public Object get(String column) { return values[col(column)]; }

    public boolean isNull(String column) { return values[col(column)] == null; }

    public int getInt(String column) { return ((Number) nonNull(column)).intValue(); }

    public long getLong(String column) { return ((Number) nonNull(column)).longValue(); }

    public float getFloat(String column) { return ((Number) nonNull(column)).floatValue(); }

    public double getDouble(String column) { return ((Number) nonNull(column)).doubleValue(); }

    public boolean getBoolean(String column) { return (Boolean) nonNull(column); }

    /** The string, or null when absent. */
    public String getString(String column) { return (String) values[col(column)]; }

    /** An INT32 or INT16 list, or null when absent. */
    public int[] getIntList(String column) { return (int[]) values[col(column)]; }

    /** A FLOAT list, or null when absent. */
    public float[] getFloatList(String column) { return (float[]) values[col(column)]; }

    private Object nonNull(String column) {
        Object v = values[col(column)];
        if (v == null) throw new RoutecalException("row " + number + ": column '" + column + "' is null");
        return v;
    }

    private int col(String column) {
        int i = schema.indexOf(column);
        if (i < 0) throw new RoutecalException("no column '" + column + "' (columns: " + schema.columns().stream().map(ParquetSchema.Column::name).toList() + ")");
        return i;
    }
}
