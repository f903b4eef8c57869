package org.routecal.tokenize.jinja;

import java.math.BigDecimal;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Python value semantics for the template evaluator. Values are {@code null} (None), {@link Undefined}, Boolean, Long,
 * Double, String, List (a {@link Tuple} for tuples), Map, or a callable. Strings are indexed by code point, as Python
 * indexes {@code str}, so {@code len}, indexing and slicing agree with jinja2 on emoji and other astral characters.
 */
final class Py {
    private Py() { }

    /** jinja2's default {@code Undefined}: prints as "", is falsy, has length 0, raises on attribute access or arithmetic. */
    static final class Undefined {
        final String name;
        Undefined(String name) { this.name = name; }
        JinjaException error() { return new JinjaException("'" + name + "' is undefined"); }
        @Override public String toString() { return ""; }
    }

    /** An immutable tuple: like a list, but printed with parentheses. */
    static final class Tuple extends AbstractList<Object> {
        final List<Object> items;
        Tuple(List<Object> items) { this.items = items; }
        @Override public Object get(int i) { return items.get(i); }
        @Override public int size() { return items.size(); }
    }

    // ---- whitespace and strings -------------------------------------------------------------------------------------

    /** Python's {@code str.isspace} for one code point. */
    static boolean isSpace(int cp) {
        return Character.isWhitespace(cp) || cp == 0x85 || cp == 0xA0 || cp == 0x2007 || cp == 0x202F;
    }

    static boolean isBlank(String s) {
        return s.codePoints().allMatch(Py::isSpace);
    }

    private static boolean strips(int cp, String chars) {
        return chars == null ? isSpace(cp) : chars.codePoints().anyMatch(c -> c == cp);
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (!strips(cp, chars)) break;
            i += Character.charCount(cp);
        }
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int j = s.length();
        while (j > 0) {
            int cp = s.codePointBefore(j);
            if (!strips(cp, chars)) break;
            j -= Character.charCount(cp);
        }
        return s.substring(0, j);
    }

    static String strip(String s, String chars) {
        return lstrip(rstrip(s, chars), chars);
    }

    static int len(String s) { return s.codePointCount(0, s.length()); }

    /** Python {@code str.split(sep, maxsplit)}; {@code sep == null} splits on whitespace runs. */
    static List<Object> split(String s, String sep, int maxSplit) {
        List<Object> parts = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isSpace(s.charAt(i))) i++;
                if (i >= n) break;
                if (maxSplit >= 0 && parts.size() == maxSplit) { parts.add(rstrip(s.substring(i), null)); break; }
                int j = i;
                while (j < n && !isSpace(s.charAt(j))) j++;
                parts.add(s.substring(i, j));
                i = j;
            }
            return parts;
        }
        if (sep.isEmpty()) throw new JinjaException("ValueError: empty separator");
        int from = 0;
        while (maxSplit < 0 || parts.size() < maxSplit) {
            int k = s.indexOf(sep, from);
            if (k < 0) break;
            parts.add(s.substring(from, k));
            from = k + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    // ---- truthiness, str(), repr() ----------------------------------------------------------------------------------

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) return false;
        if (v instanceof Boolean b) return b;
        if (v instanceof Long l) return l != 0;
        if (v instanceof Double d) return d != 0.0;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof Collection<?> c) return !c.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    /** Python {@code str(v)}, which is what {@code {{ v }}} prints. */
    static String str(Object v) {
        if (v instanceof String s) return s;
        if (v instanceof Undefined) return "";
        return repr(v);
    }

    static String repr(Object v) {
        if (v == null) return "None";
        if (v instanceof Undefined) return "";
        if (v instanceof Boolean b) return b ? "True" : "False";
        if (v instanceof Long l) return l.toString();
        if (v instanceof Double d) return floatRepr(d);
        if (v instanceof String s) return stringRepr(s);
        if (v instanceof Tuple t) {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < t.size(); i++) sb.append(i > 0 ? ", " : "").append(repr(t.get(i)));
            return sb.append(t.size() == 1 ? ",)" : ")").toString();
        }
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) sb.append(i > 0 ? ", " : "").append(repr(l.get(i)));
            return sb.append(']').toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                first = false;
            }
            return sb.append('}').toString();
        }
        return v.toString();
    }

    private static String stringRepr(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(q);
        s.codePoints().forEach(cp -> {
            if (cp == q || cp == '\\') sb.append('\\').appendCodePoint(cp);
            else if (cp == '\n') sb.append("\\n");
            else if (cp == '\r') sb.append("\\r");
            else if (cp == '\t') sb.append("\\t");
            else if (cp < 0x20 || cp == 0x7f) sb.append(String.format("\\x%02x", cp));
            else sb.appendCodePoint(cp);
        });
        return sb.append(q).toString();
    }

    /** Python's {@code repr(float)}: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp < -4 || exp >= 16) {
            String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        }
        String plain;
        if (exp < 0) plain = "0." + "0".repeat(-exp - 1) + digits;
        else if (digits.length() <= exp + 1) plain = digits + "0".repeat(exp + 1 - digits.length()) + ".0";
        else plain = digits.substring(0, exp + 1) + "." + digits.substring(exp + 1);
        return sign + plain;
    }

    // ---- JSON as Python's json.dumps(ensure_ascii=False) -----------------------------------------------------------

    static String toJson(Object v, Integer indent, String itemSep, String keySep, boolean sortKeys) {
        StringBuilder sb = new StringBuilder();
        String is = itemSep != null ? itemSep : indent != null ? "," : ", ";
        String ks = keySep != null ? keySep : ": ";
        json(sb, v, indent, is, ks, sortKeys, 0);
        return sb.toString();
    }

    private static void json(StringBuilder sb, Object v, Integer indent, String is, String ks, boolean sort, int depth) {
        if (v == null) sb.append("null");
        else if (v instanceof Boolean b) sb.append(b ? "true" : "false");
        else if (v instanceof Long l) sb.append(l);
        else if (v instanceof Double d) sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : floatRepr(d));
        else if (v instanceof String s) jsonString(sb, s);
        else if (v instanceof List<?> l) {
            if (l.isEmpty()) { sb.append("[]"); return; }
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(is);
                newline(sb, indent, depth + 1);
                json(sb, l.get(i), indent, is, ks, sort, depth + 1);
            }
            newline(sb, indent, depth);
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) { sb.append("{}"); return; }
            sb.append('{');
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sort) entries.sort((a, b) -> str(a.getKey()).compareTo(str(b.getKey())));
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                if (!first) sb.append(is);
                first = false;
                newline(sb, indent, depth + 1);
                Object k = e.getKey();
                jsonString(sb, k instanceof String s ? s : k == null ? "null" : k instanceof Boolean b ? (b ? "true" : "false") : repr(k));
                sb.append(ks);
                json(sb, e.getValue(), indent, is, ks, sort, depth + 1);
            }
            newline(sb, indent, depth);
            sb.append('}');
        } else if (v instanceof Undefined u) {
            throw new JinjaException("TypeError: Object of type Undefined is not JSON serializable");
        } else {
            throw new JinjaException("TypeError: Object of type " + v.getClass().getSimpleName() + " is not JSON serializable");
        }
    }

    private static void newline(StringBuilder sb, Integer indent, int depth) {
        if (indent != null) sb.append('\n').append(" ".repeat(indent * depth));
    }

    private static void jsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
