package org.routecal.route;

import org.routecal.RoutecalException;

/** Helpers shared by the route and bracket commands (argument parsing only). */
final class RouteCommand {
    private RouteCommand() {}

    /** {@code none} → null; otherwise the marker with \n, \t and \\ unescaped. */
    static String marker(String s) {
        if (s == null || s.equalsIgnoreCase("none")) return null;
        if (s.isEmpty()) throw new RoutecalException("--after: empty marker (use none to tag everything)");
        return s.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\");
    }

    static Ranking ranking(String s) {
        return Ranking.valueOf(enumName(s, "--ranking", "global", "per-layer"));
    }

    /** Checks a flag value against its choices and returns it as an enum constant name. */
    static String enumName(String value, String flag, String... choices) {
        for (String c : choices) if (c.equalsIgnoreCase(value) || c.replace('-', '_').equalsIgnoreCase(value)) return c.replace('-', '_').toUpperCase();
        throw new RoutecalException(flag + ": unknown value '" + value + "', expected one of " + String.join(", ", choices));
    }
}
