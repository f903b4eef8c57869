package org.routecal.tokenize.jinja;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed jinja2 template, rendered as transformers renders chat templates (jinja2 3.1 with
 * {@code trim_blocks=True, lstrip_blocks=True}, the loop-control extension, transformers' globals and {@code tojson}).
 *
 * <p>Why our own interpreter: Jinjava 2.7.4 cannot render real chat templates (no {@code namespace()}, no slice
 * syntax {@code messages[::-1]}, no Python string methods such as {@code lstrip}, different whitespace control), and
 * exactness against transformers is what calibration needs. The subset here is what chat templates use (statements
 * {@code if for set macro filter generation break continue raw}; Python-like expressions, filters, tests and str/dict
 * methods); anything else fails loudly with a {@link JinjaException} rather than rendering something different.
 */
public final class JinjaTemplate {
    private final List<Node> body;

    private JinjaTemplate(List<Node> body) { this.body = body; }

    /** Parses a template; syntax errors throw {@link JinjaException} with the line. */
    public static JinjaTemplate parse(String source) {
        return new JinjaTemplate(Parser.parse(source));
    }

    /**
     * Renders with the given variables. Values may be null, Boolean, any Number, String, List/array-free Collections
     * and Maps (as from JSON); they are converted to the evaluator's Python-like model first.
     */
    public String render(Map<String, ?> context) {
        Map<String, Object> vars = new LinkedHashMap<>();
        context.forEach((k, v) -> vars.put(k, toPython(v)));
        return new Interpreter(vars).render(body);
    }

    private static Object toPython(Object v) {
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) return v;
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
        if (v instanceof Float f) return (double) f;
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(toPython(k), toPython(x)));
            return out;
        }
        if (v instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>();
            for (Object x : c) out.add(toPython(x));
            return out;
        }
        if (v instanceof CharSequence cs) return cs.toString();
        throw new JinjaException("cannot pass a " + v.getClass().getName() + " to a template");
    }
}
