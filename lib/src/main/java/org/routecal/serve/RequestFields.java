package org.routecal.serve;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Strict reading of an OpenAI request body. Every field has one JSON type and a range; a wrong type, an out-of-range
 * value or a value this server would silently ignore is a 400 that names the field. Nothing is coerced: {@code "ten"}
 * is not a number, {@code 4294967300} does not wrap to 4, {@code "yes"} is not a boolean. An absent field and a JSON
 * {@code null} both mean "the default", as in OpenAI's API. Unknown fields are ignored, as OpenAI clients send extras
 * ({@code user}, {@code stream_options}) that do not change the answer.
 */
final class RequestFields {
    /** Stop strings are matched against the text after every token: a bounded count keeps that cheap. */
    static final int MAX_STOPS = 16;

    private final JsonNode body;

    RequestFields(JsonNode body) { this.body = body; }

    private JsonNode present(String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    boolean has(String name) { return present(name) != null; }

    /** An integer in [min, max]; {@code absent} when the field is missing or null. */
    long integer(String name, long min, long max, long absent) {
        JsonNode n = present(name);
        if (n == null) return absent;
        if (!n.isIntegralNumber()) throw ApiError.badField(name, "'" + name + "' must be an integer, got " + shown(n));
        if (!n.canConvertToLong() || n.longValue() < min || n.longValue() > max) {
            throw ApiError.badField(name, "'" + name + "' must be between " + min + " and " + max + ", got " + n);
        }
        return n.longValue();
    }

    int integer(String name, int min, int max, int absent) {
        return (int) integer(name, (long) min, max, absent);
    }

    /** A number in [min, max] ({@code minExclusive}: in (min, max]); {@code absent} when missing or null. */
    double number(String name, double min, boolean minExclusive, double max, double absent) {
        JsonNode n = present(name);
        if (n == null) return absent;
        if (!n.isNumber()) throw ApiError.badField(name, "'" + name + "' must be a number, got " + shown(n));
        double v = n.doubleValue();
        if (v > max || v < min || (minExclusive && v == min)) {
            throw ApiError.badField(name, "'" + name + "' must be " + (minExclusive ? "> " : "≥ ") + trim(min) + " and ≤ " + trim(max) + ", got " + n);
        }
        return v;
    }

    boolean bool(String name, boolean absent) {
        JsonNode n = present(name);
        if (n == null) return absent;
        if (!n.isBoolean()) throw ApiError.badField(name, "'" + name + "' must be true or false, got " + shown(n));
        return n.booleanValue();
    }

    /** A string, or null when missing. */
    String text(String name) {
        JsonNode n = present(name);
        if (n == null) return null;
        if (!n.isTextual()) throw ApiError.badField(name, "'" + name + "' must be a string, got " + shown(n));
        return n.textValue();
    }

    /** {@code stop}: a string or a list of up to {@value #MAX_STOPS} strings, none empty (an empty one matches everywhere). */
    List<String> stops() {
        JsonNode n = present("stop");
        if (n == null) return List.of();
        List<JsonNode> items = new ArrayList<>();
        if (n.isArray()) n.forEach(items::add);
        else items.add(n);
        if (items.size() > MAX_STOPS) throw ApiError.badField("stop", "'stop' takes at most " + MAX_STOPS + " strings, got " + items.size());
        List<String> out = new ArrayList<>();
        for (JsonNode s : items) {
            if (!s.isTextual()) throw ApiError.badField("stop", "'stop' must be a string or a list of strings, got " + shown(s));
            if (s.textValue().isEmpty()) throw ApiError.badField("stop", "'stop' strings must not be empty");
            out.add(s.textValue());
        }
        return out;
    }

    /**
     * A field this server does not implement: refused unless absent or equal to its neutral value, because ignoring
     * it would return something other than what the client asked for ({@code n: 2} answered with one choice).
     */
    void onlyNeutral(String name, String why) {
        JsonNode n = present(name);
        if (n == null) return;
        boolean neutral = switch (name) {
            case "n", "best_of" -> n.isIntegralNumber() && n.canConvertToLong() && n.longValue() == 1;
            case "presence_penalty", "frequency_penalty" -> n.isNumber() && n.doubleValue() == 0;
            case "logit_bias" -> n.isObject() && n.isEmpty();
            case "tools", "functions" -> n.isArray() && n.isEmpty();
            case "response_format" -> n.isObject() && "text".equals(n.path("type").asText());
            default -> throw new IllegalArgumentException("no neutral value known for " + name);
        };
        if (!neutral) throw ApiError.badField(name, "'" + name + "' " + why + " (got " + shown(n) + ")");
    }

    /** A value as the client wrote it, kept short (it may be megabytes). */
    static String shown(JsonNode n) {
        String s = n.isTextual() ? "\"" + n.textValue() + "\"" : n.toString();
        String kind = n.isTextual() ? "a string " : n.isArray() ? "a list " : n.isObject() ? "an object " : "";
        return kind + (s.length() > 40 ? s.substring(0, 40) + "…" : s);
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
