package org.routecal.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * papermill's parameter injection, for Java notebooks: a new code cell tagged {@code injected-parameters} holding one
 * declaration per parameter goes right after the first cell tagged {@code parameters} (replacing an earlier injected
 * cell; at the top, with a warning, if no cell is tagged). A parameter the {@code parameters} cell declares keeps that
 * declaration's type ({@code int layers = 4;} and {@code -p layers=8} give {@code int layers = 8;}); one it does not
 * declare is still injected (as {@code var}) and warned about by name, as papermill does.
 */
final class Parameters {
    private static final ObjectMapper YAML = Json.YAML;
    /** {@code [final] Type name = …} at the start of a statement; Type may be generic or an array. */
    private static final Pattern DECLARATION = Pattern.compile(
            "(?m)^\\s*(?:final\\s+)?([A-Za-z_$][\\w$.]*(?:<[^=;]*>)?(?:\\[\\])*)\\s+([A-Za-z_$][\\w$]*)\\s*=");

    private Parameters() {}

    /** {@code -p key=value}: the value is typed like a YAML scalar (papermill: int, float, bool, None, else text). */
    static void parseAssignment(String kv, Map<String, Object> into) {
        int eq = kv.indexOf('=');
        if (eq <= 0) throw new RoutecalException("-p " + kv + ": expected key=value");
        String key = kv.substring(0, eq).strip(), raw = kv.substring(eq + 1);
        Object value;
        try {
            JsonNode n = YAML.readTree(raw.isEmpty() ? "''" : raw);
            value = n == null || n.isContainerNode() ? raw : YAML.treeToValue(n, Object.class);
        } catch (IOException e) {
            value = raw;
        }
        into.put(key, value);
    }

    /** {@code -f params.yaml}: a YAML (or JSON) mapping of parameters. */
    @SuppressWarnings("unchecked")
    static void readFile(Path file, Map<String, Object> into) {
        try {
            Object o = YAML.readValue(file.toFile(), Object.class);
            if (o == null) return;
            if (!(o instanceof Map)) throw new RoutecalException(file + ": parameters file must be a mapping of name: value");
            into.putAll((Map<String, Object>) o);
        } catch (IOException e) {
            throw new RoutecalException("cannot read parameters file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Injects {@code params} into {@code nb} (nbformat 4 tree); returns warnings to print. */
    static List<String> inject(ObjectNode nb, Map<String, Object> params) {
        List<String> warnings = new ArrayList<>();
        ArrayNode cells = (ArrayNode) nb.withArray("cells");
        for (int i = cells.size() - 1; i >= 0; i--) {
            if (hasTag(cells.get(i), "injected-parameters")) cells.remove(i);
        }
        int paramsAt = -1;
        for (int i = 0; i < cells.size(); i++) {
            if (hasTag(cells.get(i), "parameters")) {
                paramsAt = i;
                break;
            }
        }
        Map<String, String> declared = paramsAt < 0 ? Map.of() : declaredTypes(source(cells.get(paramsAt)));
        if (paramsAt < 0) warnings.add("Input notebook does not contain a cell with tag 'parameters'; parameters injected at the top");
        StringBuilder src = new StringBuilder("// Parameters\n");
        for (Map.Entry<String, Object> e : params.entrySet()) {
            String name = e.getKey();
            if (!name.matches("[A-Za-z_$][\\w$]*")) throw new RoutecalException("parameter '" + name + "': not a Java identifier");
            String type = declared.get(name);
            if (type == null && paramsAt >= 0) warnings.add("Passed unknown parameter: " + name);
            src.append(declaration(name, type, e.getValue())).append('\n');
        }
        ObjectNode cell = cells.objectNode();
        cell.put("cell_type", "code");
        cell.put("execution_count", (String) null);
        cell.put("id", UUID.randomUUID().toString().substring(0, 8));
        cell.putObject("metadata").putArray("tags").add("injected-parameters");
        cell.putArray("outputs");
        cell.put("source", src.toString().stripTrailing());
        cells.insert(paramsAt + 1, cell);
        ObjectNode pm = nb.with("metadata").with("papermill");
        pm.set("parameters", YAML.valueToTree(params));
        return warnings;
    }

    /** name → declared type of each declaration in the parameters cell. */
    static Map<String, String> declaredTypes(String source) {
        Map<String, String> m = new LinkedHashMap<>();
        Matcher matcher = DECLARATION.matcher(source);
        while (matcher.find()) m.put(matcher.group(2), matcher.group(1));
        return m;
    }

    /** A Java declaration for one parameter value, converted to the declared type where there is one. */
    static String declaration(String name, String declaredType, Object value) {
        String type = declaredType == null ? "var" : declaredType;
        if (value == null) return (declaredType == null ? "Object" : type) + " " + name + " = null;";
        String literal = switch (type) {
            case "String" -> quote(String.valueOf(value));
            case "int", "Integer" -> String.valueOf(toNumber(name, value).intValue());
            case "long", "Long" -> toNumber(name, value).longValue() + "L";
            case "double", "Double" -> doubleLiteral(toNumber(name, value).doubleValue());
            case "float", "Float" -> toNumber(name, value).floatValue() + "f";
            case "boolean", "Boolean" -> String.valueOf(toBoolean(name, value));
            default -> literal(value);
        };
        return type + " " + name + " = " + literal + ";";
    }

    /** Java source for a YAML value: strings, numbers, booleans, lists ({@code List.of}) and maps ({@code Map.of}). */
    static String literal(Object v) {
        if (v == null) return "null";
        if (v instanceof String s) return quote(s);
        if (v instanceof Boolean b) return b.toString();
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) return v.toString();
        if (v instanceof Long l) return l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE ? l.toString() : l + "L";
        if (v instanceof java.math.BigInteger b) return b.longValue() + "L";
        if (v instanceof Number n) return doubleLiteral(n.doubleValue());
        if (v instanceof List<?> list) {
            List<String> parts = new ArrayList<>();
            for (Object o : list) parts.add(literal(o));
            return "List.of(" + String.join(", ", parts) + ")";
        }
        if (v instanceof Map<?, ?> map) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : map.entrySet()) parts.add("Map.entry(" + literal(String.valueOf(e.getKey())) + ", " + literal(e.getValue()) + ")");
            return "Map.ofEntries(" + String.join(", ", parts) + ")";
        }
        return quote(v.toString());
    }

    private static String doubleLiteral(double d) {
        if (Double.isNaN(d)) return "Double.NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Double.POSITIVE_INFINITY" : "Double.NEGATIVE_INFINITY";
        String s = Double.toString(d);
        return s;
    }

    private static Number toNumber(String name, Object v) {
        if (v instanceof Number n) return n;
        try {
            return Double.parseDouble(String.valueOf(v));
        } catch (NumberFormatException e) {
            throw new RoutecalException("parameter " + name + " = " + v + ": the parameters cell declares a number");
        }
    }

    private static boolean toBoolean(String name, Object v) {
        if (v instanceof Boolean b) return b;
        String s = String.valueOf(v).toLowerCase(java.util.Locale.ROOT);
        if (s.equals("true") || s.equals("false")) return Boolean.parseBoolean(s);
        throw new RoutecalException("parameter " + name + " = " + v + ": the parameters cell declares a boolean");
    }

    /** A Java string literal; non-ASCII characters stay as they are (Java source is UTF-8 here). */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }

    static boolean hasTag(JsonNode cell, String tag) {
        JsonNode tags = cell.path("metadata").path("tags");
        for (Iterator<JsonNode> it = tags.elements(); it.hasNext(); ) if (tag.equals(it.next().asText())) return true;
        return false;
    }

    /** A cell's source: nbformat allows a string or a list of lines. */
    static String source(JsonNode cell) {
        JsonNode s = cell.path("source");
        if (s.isArray()) {
            StringBuilder b = new StringBuilder();
            s.forEach(x -> b.append(x.asText()));
            return b.toString();
        }
        return s.asText("");
    }
}
