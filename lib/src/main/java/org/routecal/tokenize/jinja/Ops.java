package org.routecal.tokenize.jinja;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.routecal.tokenize.jinja.Py.Tuple;
import org.routecal.tokenize.jinja.Py.Undefined;

/** Operators, attribute/item access and iteration with jinja2-on-Python semantics. */
final class Ops {
    private Ops() { }

    /** A value a template can call: a global, a macro, or a bound method such as {@code text.strip}. */
    interface Fn {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    /** The object {@code namespace(...)} returns: the one value a loop body may write to and the outside may read. */
    static final class Namespace {
        final Map<String, Object> attrs;
        Namespace(Map<String, Object> attrs) { this.attrs = attrs; }
    }

    // ---- numbers ----------------------------------------------------------------------------------------------------

    static boolean isNumber(Object v) { return v instanceof Long || v instanceof Double || v instanceof Boolean; }

    private static long asLong(Object v) { return v instanceof Boolean b ? (b ? 1 : 0) : (Long) v; }

    static double asDouble(Object v) {
        if (v instanceof Double d) return d;
        return asLong(v);
    }

    private static JinjaException typeError(String op, Object a, Object b) {
        if (a instanceof Undefined u) return u.error();
        if (b instanceof Undefined u) return u.error();
        return new JinjaException("TypeError: unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    static String typeName(Object v) {
        if (v == null) return "NoneType";
        if (v instanceof Boolean) return "bool";
        if (v instanceof Long) return "int";
        if (v instanceof Double) return "float";
        if (v instanceof String) return "str";
        if (v instanceof Tuple) return "tuple";
        if (v instanceof List) return "list";
        if (v instanceof Map) return "dict";
        if (v instanceof Undefined) return "Undefined";
        return v.getClass().getSimpleName();
    }

    static Object binary(String op, Object a, Object b) {
        switch (op) {
            case "~": return Py.str(a) + Py.str(b);
            case "+":
                if (a instanceof String x && b instanceof String y) return x + y;
                if (a instanceof List<?> x && b instanceof List<?> y && (a instanceof Tuple) == (b instanceof Tuple)) {
                    List<Object> r = new ArrayList<>(x);
                    r.addAll(y);
                    return a instanceof Tuple ? new Tuple(r) : r;
                }
                break;
            case "*":
                if (a instanceof String s && (b instanceof Long || b instanceof Boolean)) return s.repeat((int) Math.max(0, asLong(b)));
                if (b instanceof String s && (a instanceof Long || a instanceof Boolean)) return s.repeat((int) Math.max(0, asLong(a)));
                if (a instanceof List<?> l && b instanceof Long n) {
                    List<Object> r = new ArrayList<>();
                    for (long k = 0; k < n; k++) r.addAll(l);
                    return r;
                }
                break;
            case "%":
                if (a instanceof String s) return Builtins.percentFormat(s, b);
                break;
            default:
                break;
        }
        if (!isNumber(a) || !isNumber(b)) throw typeError(op, a, b);
        boolean floats = a instanceof Double || b instanceof Double;
        switch (op) {
            case "+": return floats ? (Object) (asDouble(a) + asDouble(b)) : (Object) (asLong(a) + asLong(b));
            case "-": return floats ? (Object) (asDouble(a) - asDouble(b)) : (Object) (asLong(a) - asLong(b));
            case "*": return floats ? (Object) (asDouble(a) * asDouble(b)) : (Object) (asLong(a) * asLong(b));
            case "/":
                if (asDouble(b) == 0) throw new JinjaException("ZeroDivisionError: division by zero");
                return asDouble(a) / asDouble(b);
            case "//":
                if (asDouble(b) == 0) throw new JinjaException("ZeroDivisionError: integer division or modulo by zero");
                return floats ? (Object) Math.floor(asDouble(a) / asDouble(b)) : (Object) Math.floorDiv(asLong(a), asLong(b));
            case "%":
                if (asDouble(b) == 0) throw new JinjaException("ZeroDivisionError: integer division or modulo by zero");
                if (floats) {
                    double x = asDouble(a), y = asDouble(b);
                    return x - Math.floor(x / y) * y;
                }
                return Math.floorMod(asLong(a), asLong(b));
            case "**":
                if (!floats && asLong(b) >= 0) {
                    long r = 1;
                    for (long k = 0; k < asLong(b); k++) r *= asLong(a);
                    return r;
                }
                return Math.pow(asDouble(a), asDouble(b));
            default: throw new JinjaException("unknown operator " + op);
        }
    }

    static Object negate(Object v) {
        if (v instanceof Double d) return -d;
        if (v instanceof Long || v instanceof Boolean) return -asLong(v);
        if (v instanceof Undefined u) throw u.error();
        throw new JinjaException("TypeError: bad operand type for unary -: '" + typeName(v) + "'");
    }

    // ---- comparison -------------------------------------------------------------------------------------------------

    static boolean eq(Object a, Object b) {
        if (a == null || b == null) return a == b;
        if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
        if (isNumber(a) && isNumber(b)) return asDouble(a) == asDouble(b);
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if ((a instanceof Tuple) != (b instanceof Tuple) || x.size() != y.size()) return false;
            for (int i = 0; i < x.size(); i++) if (!eq(x.get(i), y.get(i))) return false;
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) return false;
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) return false;
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    /** Python ordering: numbers, strings by code point, sequences lexicographically; anything else is a TypeError. */
    static int order(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) return Double.compare(asDouble(a), asDouble(b));
        if (a instanceof String x && b instanceof String y) return compareCodePoints(x, y);
        if (a instanceof List<?> x && b instanceof List<?> y) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!eq(x.get(i), y.get(i))) return order(x.get(i), y.get(i));
            }
            return Integer.compare(x.size(), y.size());
        }
        throw typeError("<", a, b);
    }

    static int compareCodePoints(String x, String y) {
        int i = 0, j = 0;
        while (i < x.length() && j < y.length()) {
            int a = x.codePointAt(i), b = y.codePointAt(j);
            if (a != b) return Integer.compare(a, b);
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Integer.compare(x.length() - i, y.length() - j);
    }

    static boolean compare(String op, Object a, Object b) {
        return switch (op) {
            case "==" -> eq(a, b);
            case "!=" -> !eq(a, b);
            case "<" -> order(a, b) < 0;
            case ">" -> order(a, b) > 0;
            case "<=" -> order(a, b) <= 0;
            case ">=" -> order(a, b) >= 0;
            case "in" -> contains(b, a);
            case "notin" -> !contains(b, a);
            default -> throw new JinjaException("unknown comparison " + op);
        };
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof String s) {
            if (!(item instanceof String n)) throw new JinjaException("TypeError: 'in <string>' requires string as left operand, not " + typeName(item));
            return s.contains(n);
        }
        if (container instanceof Map<?, ?> m) return m.containsKey(item);
        if (container instanceof Collection<?> c) {
            for (Object o : c) if (eq(o, item)) return true;
            return false;
        }
        if (container instanceof Undefined) return false;
        throw new JinjaException("TypeError: argument of type '" + typeName(container) + "' is not iterable");
    }

    // ---- access -----------------------------------------------------------------------------------------------------

    /** {@code obj.name}: Python attributes (methods) first, then the item, as jinja2's {@code getattr} does. */
    static Object getattr(Object obj, String name) {
        if (obj instanceof Undefined u) throw u.error();
        if (obj instanceof Namespace ns) return ns.attrs.containsKey(name) ? ns.attrs.get(name) : new Undefined(name);
        if (obj instanceof Interpreter.Loop loop) return loop.attr(name);
        Fn method = Builtins.method(obj, name);
        if (method != null) return method;
        if (obj instanceof Map<?, ?> m && m.containsKey(name)) return m.get(name);
        return new Undefined(name);
    }

    /** {@code obj[key]}: the item first, then the attribute; a missing index or key is undefined, as in jinja2. */
    static Object getitem(Object obj, Object key) {
        if (obj instanceof Undefined u) throw u.error();
        if (obj instanceof Map<?, ?> m) {
            if (m.containsKey(key)) return m.get(key);
        } else if ((obj instanceof List || obj instanceof String) && (key instanceof Long || key instanceof Boolean)) {
            int n = obj instanceof String s ? Py.len(s) : ((List<?>) obj).size();
            long k = key instanceof Boolean b ? (b ? 1 : 0) : (Long) key;
            if (k < 0) k += n;
            if (k < 0 || k >= n) return new Undefined(Py.repr(obj) + "[" + key + "]");
            if (obj instanceof String s) {
                int at = s.offsetByCodePoints(0, (int) k);
                return new String(Character.toChars(s.codePointAt(at)));
            }
            return ((List<?>) obj).get((int) k);
        }
        if (key instanceof String s) return getattr(obj, s);
        return new Undefined(Py.repr(obj) + "[" + Py.repr(key) + "]");
    }

    /** Python slicing {@code obj[start:stop:step]} of a list, tuple or string (by code point). */
    static Object slice(Object obj, Object start, Object stop, Object step) {
        if (obj instanceof Undefined u) throw u.error();
        long st = step == null ? 1 : (Long) step;
        if (st == 0) throw new JinjaException("ValueError: slice step cannot be zero");
        List<Object> items;
        if (obj instanceof String s) {
            items = new ArrayList<>();
            s.codePoints().forEach(cp -> items.add(new String(Character.toChars(cp))));
        } else if (obj instanceof List<?> l) {
            items = new ArrayList<>(l);
        } else {
            throw new JinjaException("TypeError: '" + typeName(obj) + "' object is not subscriptable");
        }
        int n = items.size();
        long lo, hi;
        if (st > 0) {
            lo = start == null ? 0 : clamp((Long) start, n, 0, n);
            hi = stop == null ? n : clamp((Long) stop, n, 0, n);
        } else {
            lo = start == null ? n - 1 : clamp((Long) start, n, -1, n - 1);
            hi = stop == null ? -1 : clamp((Long) stop, n, -1, n - 1);
        }
        List<Object> out = new ArrayList<>();
        for (long k = lo; st > 0 ? k < hi : k > hi; k += st) out.add(items.get((int) k));
        if (obj instanceof String) {
            StringBuilder sb = new StringBuilder();
            for (Object o : out) sb.append((String) o);
            return sb.toString();
        }
        return obj instanceof Tuple ? new Tuple(out) : out;
    }

    private static long clamp(long index, int n, long min, long max) {
        long k = index < 0 ? index + n : index;
        return Math.max(min, Math.min(max, k));
    }

    /** The items a {@code for} loop visits: list items, dict keys, string characters; undefined is empty. */
    static List<Object> iterate(Object v) {
        if (v instanceof Undefined) return List.of();
        if (v instanceof List<?> l) return new ArrayList<>(l);
        if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
        if (v instanceof String s) {
            List<Object> chars = new ArrayList<>();
            s.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
            return chars;
        }
        throw new JinjaException("TypeError: '" + typeName(v) + "' object is not iterable");
    }
}
