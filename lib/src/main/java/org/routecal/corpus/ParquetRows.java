package org.routecal.corpus;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;
import org.routecal.RoutecalException;

/**
 * Parquet corpus rows as JSON objects, so JSONL and Parquet corpora go through the same row code. A corpus needs
 * nested columns ({@code messages}: a list of structs role/content/...), which the io area's table reader (flat
 * scalars and number lists) does not cover, so rows are read with parquet's generic {@link Group} model and
 * converted: strings, numbers and booleans to JSON values, LIST-annotated groups (3-level, as pyarrow writes them,
 * or legacy 2-level) to arrays, other groups to objects, absent optional values to null.
 */
final class ParquetRows {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ParquetRows() { }

    static List<CorpusReader.Row> read(Path file) {
        List<CorpusReader.Row> rows = new ArrayList<>();
        try (ParquetReader<Group> r = new GroupReader(new LocalInputFile(file), new PlainParquetConfiguration()).build()) {
            for (Group g = r.read(); g != null; g = r.read()) {
                int index = rows.size();
                rows.add(new CorpusReader.Row(index, file + " row " + index, object(g)));
            }
        } catch (IOException | RuntimeException e) {
            throw new RoutecalException("corpus " + file + ": not a readable Parquet file (truncated or corrupt?): " + e.getMessage(), e);
        }
        return rows;
    }

    private static final class GroupReader extends ParquetReader.Builder<Group> {
        GroupReader(InputFile file, ParquetConfiguration conf) { super(file, conf); }

        @Override
        protected ReadSupport<Group> getReadSupport() { return new GroupReadSupport(); }
    }

    private static ObjectNode object(Group g) {
        ObjectNode o = NODES.objectNode();
        GroupType type = g.getType();
        for (int f = 0; f < type.getFieldCount(); f++) {
            Type t = type.getType(f);
            int n = g.getFieldRepetitionCount(f);
            if (t.isRepetition(Type.Repetition.REPEATED)) {
                ArrayNode arr = o.putArray(t.getName());
                for (int i = 0; i < n; i++) arr.add(value(g, f, i, t));
            } else {
                o.set(t.getName(), n == 0 ? NODES.nullNode() : value(g, f, 0, t));
            }
        }
        return o;
    }

    private static JsonNode value(Group g, int f, int i, Type t) {
        if (t.isPrimitive()) return primitive(g, f, i, t.asPrimitiveType());
        Group child = g.getGroup(f, i);
        GroupType gt = t.asGroupType();
        if (gt.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation && gt.getFieldCount() == 1) {
            ArrayNode arr = NODES.arrayNode();
            Type repeated = gt.getType(0);
            int n = child.getFieldRepetitionCount(0);
            boolean threeLevel = !repeated.isPrimitive() && repeated.asGroupType().getFieldCount() == 1
                && !repeated.getName().equals("array") && !repeated.getName().endsWith("_tuple");
            for (int k = 0; k < n; k++) {
                if (threeLevel) {
                    Group item = child.getGroup(0, k);
                    Type element = repeated.asGroupType().getType(0);
                    arr.add(item.getFieldRepetitionCount(0) == 0 ? NODES.nullNode() : value(item, 0, 0, element));
                } else {
                    arr.add(value(child, 0, k, repeated));
                }
            }
            return arr;
        }
        return object(child);
    }

    private static JsonNode primitive(Group g, int f, int i, PrimitiveType t) {
        switch (t.getPrimitiveTypeName()) {
            case INT32: return NODES.numberNode(g.getInteger(f, i));
            case INT64: return NODES.numberNode(g.getLong(f, i));
            case BOOLEAN: return NODES.booleanNode(g.getBoolean(f, i));
            case FLOAT: return NODES.numberNode(g.getFloat(f, i));
            case DOUBLE: return NODES.numberNode(g.getDouble(f, i));
            case BINARY: return NODES.textNode(g.getString(f, i));
            default: return NODES.textNode(g.getValueToString(f, i));
        }
    }
}
