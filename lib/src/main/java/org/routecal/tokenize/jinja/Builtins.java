package org.routecal.tokenize.jinja;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.routecal.tokenize.jinja.Ops.Fn;
import org.routecal.tokenize.jinja.Ops.Namespace;
import org.routecal.tokenize.jinja.Py.Tuple;
import org.routecal.tokenize.jinja.Py.Undefined;

/**
 * The globals, filters, tests and Python methods chat templates call: jinja2's builtins plus what transformers adds
 * ({@code raise_exception}, {@code strftime_now}, and a {@code tojson} that is plain {@code json.dumps} with
 * {@code ensure_ascii=False}, not jinja2's HTML-escaping one).
 */
final class Builtins {
    private Builtins() { }

    static Map<String, Object> globals() {
        Map<String, Object> g = new HashMap<>();
        g.put("raise_exception", (Fn) (a, kw) -> { throw new JinjaException(Py.str(arg(a, kw, 0, "message", ""))); });
        g.put("namespace", (Fn) (a, kw) -> {
            Map<String, Object> attrs = new LinkedHashMap<>();
            for (Object o : a) if (o instanceof Map<?, ?> m) m.forEach((k, v) -> attrs.put(Py.str(k), v));
            attrs.putAll(kw);
            return new Namespace(attrs);
        });
        g.put("dict", (Fn) (a, kw) -> new LinkedHashMap<Object, Object>(kw));
        g.put("range", (Fn) (a, kw) -> {
            long start = 0, stop, step = 1;
            if (a.size() == 1) stop = (Long) a.get(0);
            else { start = (Long) a.get(0); stop = (Long) a.get(1); if (a.size() > 2) step = (Long) a.get(2); }
            if (step == 0) throw new JinjaException("ValueError: range() arg 3 must not be zero");
            List<Object> r = new ArrayList<>();
            for (long k = start; step > 0 ? k < stop : k > stop; k += step) r.add(k);
            return r;
        });
        g.put("strftime_now", (Fn) (a, kw) -> strftime(Py.str(a.get(0)), LocalDateTime.now()));
        return g;
    }

    private static Object arg(List<Object> args, Map<String, Object> kw, int index, String name, Object dflt) {
        if (index < args.size()) return args.get(index);
        return kw.containsKey(name) ? kw.get(name) : dflt;
    }

    // ---- methods ----------------------------------------------------------------------------------------------------

    /** The bound Python method {@code obj.name}, or null when the type has no such method. */
    static Fn method(Object obj, String name) {
        if (obj instanceof String s) return stringMethod(s, name);
        if (obj instanceof Map<?, ?> m) {
            return switch (name) {
                case "items" -> (a, kw) -> items(m);
                case "keys" -> (a, kw) -> new ArrayList<Object>(m.keySet());
                case "values" -> (a, kw) -> new ArrayList<Object>(m.values());
                case "get" -> (a, kw) -> m.containsKey(a.get(0)) ? m.get(a.get(0)) : (a.size() > 1 ? a.get(1) : null);
                default -> null;
            };
        }
        if (obj instanceof List<?> l) {
            return switch (name) {
                case "index" -> (a, kw) -> {
                    for (int k = 0; k < l.size(); k++) if (Ops.eq(l.get(k), a.get(0))) return (long) k;
                    throw new JinjaException("ValueError: " + Py.repr(a.get(0)) + " is not in list");
                };
                case "count" -> (a, kw) -> l.stream().filter(x -> Ops.eq(x, a.get(0))).count();
                default -> null;
            };
        }
        return null;
    }

    private static List<Object> items(Map<?, ?> m) {
        List<Object> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            List<Object> pair = new ArrayList<>(); // not List.of: keys and values may be None
            pair.add(e.getKey());
            pair.add(e.getValue());
            out.add(new Tuple(pair));
        }
        return out;
    }

    private static Fn stringMethod(String s, String name) {
        return switch (name) {
            case "strip" -> (a, kw) -> Py.strip(s, chars(a));
            case "lstrip" -> (a, kw) -> Py.lstrip(s, chars(a));
            case "rstrip" -> (a, kw) -> Py.rstrip(s, chars(a));
            case "split" -> (a, kw) -> Py.split(s, chars(a), a.size() > 1 ? (int) (long) (Long) a.get(1) : -1);
            case "splitlines" -> (a, kw) -> {
                List<Object> lines = new ArrayList<>();
                for (String line : s.split("\r\n|\r|\n", -1)) lines.add(line);
                if (!lines.isEmpty() && ((String) lines.get(lines.size() - 1)).isEmpty()) lines.remove(lines.size() - 1);
                return lines;
            };
            case "startswith" -> (a, kw) -> affix(s, a.get(0), true);
            case "endswith" -> (a, kw) -> affix(s, a.get(0), false);
            case "upper" -> (a, kw) -> s.toUpperCase(Locale.ROOT);
            case "lower" -> (a, kw) -> s.toLowerCase(Locale.ROOT);
            case "title" -> (a, kw) -> title(s);
            case "capitalize" -> (a, kw) -> capitalize(s);
            case "replace" -> (a, kw) -> replace(s, Py.str(a.get(0)), Py.str(a.get(1)), a.size() > 2 ? (Long) a.get(2) : -1);
            case "find" -> (a, kw) -> (long) codePointIndex(s, s.indexOf(Py.str(a.get(0))));
            case "rfind" -> (a, kw) -> (long) codePointIndex(s, s.lastIndexOf(Py.str(a.get(0))));
            case "count" -> (a, kw) -> {
                String sub = Py.str(a.get(0));
                if (sub.isEmpty()) return (long) Py.len(s) + 1;
                long n = 0;
                for (int k = s.indexOf(sub); k >= 0; k = s.indexOf(sub, k + sub.length())) n++;
                return n;
            };
            case "join" -> (a, kw) -> join(Ops.iterate(a.get(0)), s);
            case "isdigit" -> (a, kw) -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> (a, kw) -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isspace" -> (a, kw) -> !s.isEmpty() && Py.isBlank(s);
            case "isupper" -> (a, kw) -> s.codePoints().anyMatch(Character::isUpperCase) && !s.codePoints().anyMatch(Character::isLowerCase);
            case "islower" -> (a, kw) -> s.codePoints().anyMatch(Character::isLowerCase) && !s.codePoints().anyMatch(Character::isUpperCase);
            default -> null;
        };
    }

    private static String chars(List<Object> a) {
        return a.isEmpty() || a.get(0) == null ? null : Py.str(a.get(0));
    }

    private static int codePointIndex(String s, int utf16) {
        return utf16 < 0 ? -1 : s.codePointCount(0, utf16);
    }

    private static boolean affix(String s, Object what, boolean prefix) {
        if (what instanceof List<?> options) {
            for (Object o : options) if (affix(s, o, prefix)) return true;
            return false;
        }
        if (!(what instanceof String w)) throw new JinjaException("TypeError: startswith/endswith first arg must be str or a tuple of str");
        return prefix ? s.startsWith(w) : s.endsWith(w);
    }

    private static String replace(String s, String old, String repl, long count) {
        if (count < 0) return s.replace(old, repl);
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
            int k = s.indexOf(old, from);
            if (k < 0) break;
            sb.append(s, from, k).append(repl);
            from = k + old.length();
            if (old.isEmpty()) {
                if (from < s.length()) sb.append(s.charAt(from));
                from++;
                if (from > s.length()) break;
            }
        }
        if (from <= s.length()) sb.append(s.substring(from));
        return sb.toString();
    }

    private static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        return new String(Character.toChars(Character.toTitleCase(first))) + s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean prevCased = false;
        for (int k = 0; k < s.length(); ) {
            int cp = s.codePointAt(k);
            boolean cased = Character.isLetter(cp);
            sb.appendCodePoint(cased ? (prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp)) : cp);
            prevCased = cased;
            k += Character.charCount(cp);
        }
        return sb.toString();
    }

    private static String join(List<Object> items, String sep) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < items.size(); k++) sb.append(k > 0 ? sep : "").append(Py.str(items.get(k)));
        return sb.toString();
    }

    // ---- filters ----------------------------------------------------------------------------------------------------

    static Object filter(String name, Object v, List<Object> a, Map<String, Object> kw) {
        switch (name) {
            case "tojson": {
                Object indent = arg(a, kw, 0, "indent", null);
                Object seps = kw.get("separators");
                String is = null, ks = null;
                if (seps instanceof List<?> l && l.size() == 2) { is = Py.str(l.get(0)); ks = Py.str(l.get(1)); }
                return Py.toJson(v, indent == null ? null : (int) (long) (Long) indent, is, ks, Py.truthy(kw.get("sort_keys")));
            }
            case "length": case "count": return (long) length(v);
            case "string": return Py.str(v);
            case "trim": return Py.strip(Py.str(v), chars(a));
            case "upper": return Py.str(v).toUpperCase(Locale.ROOT);
            case "lower": return Py.str(v).toLowerCase(Locale.ROOT);
            case "title": return title(Py.str(v));
            case "capitalize": return capitalize(Py.str(v));
            case "replace": return replace(Py.str(v), Py.str(a.get(0)), Py.str(a.get(1)), a.size() > 2 ? (Long) a.get(2) : -1);
            case "default": case "d": {
                boolean bool = Py.truthy(arg(a, kw, 1, "boolean", false));
                boolean useDefault = v instanceof Undefined || (bool && !Py.truthy(v));
                return useDefault ? arg(a, kw, 0, "default_value", "") : v;
            }
            case "join": {
                Object attr = kw.get("attribute");
                List<Object> items = Ops.iterate(v);
                if (attr != null) items.replaceAll(x -> Ops.getitem(x, attr));
                return join(items, Py.str(arg(a, kw, 0, "d", "")));
            }
            case "first": { List<Object> l = Ops.iterate(v); return l.isEmpty() ? new Undefined("first") : l.get(0); }
            case "last": { List<Object> l = Ops.iterate(v); return l.isEmpty() ? new Undefined("last") : l.get(l.size() - 1); }
            case "list": return Ops.iterate(v);
            case "reverse": {
                if (v instanceof String s) return new StringBuilder(s).reverse().toString();
                List<Object> l = Ops.iterate(v);
                java.util.Collections.reverse(l);
                return l;
            }
            case "unique": {
                List<Object> out = new ArrayList<>();
                for (Object x : Ops.iterate(v)) if (!Ops.contains(out, x)) out.add(x);
                return out;
            }
            case "sort": {
                List<Object> l = Ops.iterate(v);
                Object attr = arg(a, kw, 2, "attribute", null);
                l.sort((x, y) -> attr == null ? Ops.order(x, y) : Ops.order(Ops.getitem(x, attr), Ops.getitem(y, attr)));
                if (Py.truthy(arg(a, kw, 0, "reverse", false))) java.util.Collections.reverse(l);
                return l;
            }
            case "items": return v instanceof Undefined ? List.of() : items((Map<?, ?>) v);
            case "dictsort": {
                List<Object> l = items((Map<?, ?>) v);
                l.sort((x, y) -> Ops.order(((List<?>) x).get(0), ((List<?>) y).get(0)));
                return l;
            }
            case "int": return toInt(v, arg(a, kw, 0, "default", 0L));
            case "float": return toFloat(v, arg(a, kw, 0, "default", 0.0));
            case "abs": return v instanceof Double d ? (Object) Math.abs(d) : (Object) Math.abs((Long) v);
            case "round": {
                long precision = (Long) arg(a, kw, 0, "precision", 0L);
                String method = Py.str(arg(a, kw, 1, "method", "common"));
                java.math.RoundingMode mode = switch (method) {
                    case "ceil" -> java.math.RoundingMode.CEILING;
                    case "floor" -> java.math.RoundingMode.FLOOR;
                    default -> java.math.RoundingMode.HALF_EVEN;
                };
                return new java.math.BigDecimal(Ops.asDouble(v)).setScale((int) precision, mode).doubleValue();
            }
            case "sum": {
                Object total = arg(a, kw, 1, "start", 0L);
                Object attr = arg(a, kw, 0, "attribute", null);
                for (Object x : Ops.iterate(v)) total = Ops.binary("+", total, attr == null ? x : Ops.getitem(x, attr));
                return total;
            }
            case "min": case "max": {
                List<Object> l = Ops.iterate(v);
                if (l.isEmpty()) return new Undefined(name);
                Object best = l.get(0);
                for (Object x : l) if (name.equals("min") ? Ops.order(x, best) < 0 : Ops.order(x, best) > 0) best = x;
                return best;
            }
            case "map": {
                List<Object> out = new ArrayList<>();
                Object attr = kw.get("attribute");
                for (Object x : Ops.iterate(v)) {
                    if (attr != null) {
                        Object r = Ops.getitem(x, attr);
                        out.add(r instanceof Undefined && kw.containsKey("default") ? kw.get("default") : r);
                    } else {
                        out.add(filter(Py.str(a.get(0)), x, a.subList(1, a.size()), Map.of()));
                    }
                }
                return out;
            }
            case "select": case "reject": case "selectattr": case "rejectattr": {
                boolean attrMode = name.endsWith("attr");
                boolean keep = name.startsWith("select");
                List<Object> out = new ArrayList<>();
                for (Object x : Ops.iterate(v)) {
                    Object subject = attrMode ? Ops.getitem(x, a.get(0)) : x;
                    int testAt = attrMode ? 1 : 0;
                    boolean r = a.size() > testAt ? test(Py.str(a.get(testAt)), subject, a.subList(testAt + 1, a.size())) : Py.truthy(subject);
                    if (r == keep) out.add(x);
                }
                return out;
            }
            case "indent": return indent(Py.str(v), arg(a, kw, 0, "width", 4L), Py.truthy(arg(a, kw, 1, "first", false)),
                Py.truthy(arg(a, kw, 2, "blank", false)));
            case "wordcount": return (long) Py.split(Py.str(v), null, -1).size();
            case "safe": return v;
            case "e": case "escape": return Py.str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&#34;").replace("'", "&#39;");
            case "format": return percentFormat(Py.str(v), a.size() == 1 ? a.get(0) : new Tuple(a));
            default: throw new JinjaException("no filter named '" + name + "'");
        }
    }

    private static int length(Object v) {
        if (v instanceof String s) return Py.len(s);
        if (v instanceof Collection<?> c) return c.size();
        if (v instanceof Map<?, ?> m) return m.size();
        if (v instanceof Undefined) return 0;
        throw new JinjaException("TypeError: object of type '" + Ops.typeName(v) + "' has no len()");
    }

    private static Object toInt(Object v, Object dflt) {
        if (v instanceof Long || v instanceof Boolean) return v instanceof Boolean b ? (b ? 1L : 0L) : v;
        if (v instanceof Double d) return (long) (double) d;
        try {
            return Long.parseLong(Py.strip(Py.str(v), null).replace("_", ""));
        } catch (NumberFormatException e) {
            try {
                return (long) Double.parseDouble(Py.str(v));
            } catch (NumberFormatException e2) {
                return dflt;
            }
        }
    }

    private static Object toFloat(Object v, Object dflt) {
        if (Ops.isNumber(v)) return Ops.asDouble(v);
        try {
            return Double.parseDouble(Py.strip(Py.str(v), null));
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    private static String indent(String s, Object width, boolean first, boolean blank) {
        String pad = width instanceof String w ? w : " ".repeat((int) (long) (Long) width);
        String[] lines = s.split("\n", -1);
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < lines.length; k++) {
            if (k > 0) sb.append('\n');
            boolean indentIt = (k > 0 || first) && (blank || !Py.isBlank(lines[k]));
            sb.append(indentIt ? pad : "").append(lines[k]);
        }
        return sb.toString();
    }

    /** Python's {@code 'fmt' % args} for the conversions templates use: %s, %r, %d, %i and %%. */
    static String percentFormat(String fmt, Object args) {
        List<Object> values = args instanceof Tuple t ? t : List.of(args == null ? "None" : args);
        StringBuilder sb = new StringBuilder();
        int next = 0;
        for (int k = 0; k < fmt.length(); k++) {
            char c = fmt.charAt(k);
            if (c != '%' || k + 1 >= fmt.length()) { sb.append(c); continue; }
            char conv = fmt.charAt(++k);
            switch (conv) {
                case '%' -> sb.append('%');
                case 's' -> sb.append(Py.str(values.get(next++)));
                case 'r' -> sb.append(Py.repr(values.get(next++)));
                case 'd', 'i' -> sb.append((Long) toInt(values.get(next++), 0L));
                default -> throw new JinjaException("ValueError: unsupported format character '" + conv + "'");
            }
        }
        return sb.toString();
    }

    // ---- tests ------------------------------------------------------------------------------------------------------

    static boolean test(String name, Object v, List<Object> a) {
        switch (name) {
            case "defined": return !(v instanceof Undefined);
            case "undefined": return v instanceof Undefined;
            case "none": return v == null;
            case "string": return v instanceof String;
            case "number": return Ops.isNumber(v);
            case "integer": return v instanceof Long;
            case "float": return v instanceof Double;
            case "boolean": return v instanceof Boolean;
            case "true": return Boolean.TRUE.equals(v);
            case "false": return Boolean.FALSE.equals(v);
            case "mapping": return v instanceof Map;
            case "sequence": return v instanceof List || v instanceof String || v instanceof Map;
            case "iterable": return v instanceof Collection || v instanceof String || v instanceof Map;
            case "callable": return v instanceof Fn;
            case "odd": return Math.floorMod((Long) v, 2) == 1;
            case "even": return Math.floorMod((Long) v, 2) == 0;
            case "divisibleby": return Math.floorMod((Long) v, (Long) a.get(0)) == 0;
            case "eq": case "equalto": case "==": return Ops.eq(v, a.get(0));
            case "ne": case "!=": return !Ops.eq(v, a.get(0));
            case "lt": case "lessthan": case "<": return Ops.order(v, a.get(0)) < 0;
            case "le": case "<=": return Ops.order(v, a.get(0)) <= 0;
            case "gt": case "greaterthan": case ">": return Ops.order(v, a.get(0)) > 0;
            case "ge": case ">=": return Ops.order(v, a.get(0)) >= 0;
            case "in": return Ops.contains(a.get(0), v);
            case "sameas": return v == a.get(0) || (v != null && Ops.isNumber(v) == Ops.isNumber(a.get(0)) && v.equals(a.get(0)));
            case "lower": return Py.str(v).equals(Py.str(v).toLowerCase(Locale.ROOT));
            case "upper": return Py.str(v).equals(Py.str(v).toUpperCase(Locale.ROOT));
            default: throw new JinjaException("no test named '" + name + "'");
        }
    }

    // ---- strftime ---------------------------------------------------------------------------------------------------

    static String strftime(String fmt, LocalDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < fmt.length(); k++) {
            char c = fmt.charAt(k);
            if (c != '%' || k + 1 >= fmt.length()) { sb.append(c); continue; }
            char f = fmt.charAt(++k);
            switch (f) {
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(String.format("%02d", t.getYear() % 100));
                case 'm' -> sb.append(String.format("%02d", t.getMonthValue()));
                case 'd' -> sb.append(String.format("%02d", t.getDayOfMonth()));
                case 'H' -> sb.append(String.format("%02d", t.getHour()));
                case 'I' -> sb.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'M' -> sb.append(String.format("%02d", t.getMinute()));
                case 'S' -> sb.append(String.format("%02d", t.getSecond()));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> sb.append(String.format("%03d", t.getDayOfYear()));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'b' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case '%' -> sb.append('%');
                default -> sb.append('%').append(f);
            }
        }
        return sb.toString();
    }
}
