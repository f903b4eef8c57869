package org.routecal.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The registry of subcommands: name → fresh command object. One line per command; the CLI, the notebook magics and
 * the help text all read this table, so a command exists in every shell or in none.
 */
public final class Commands {
    private Commands() {}

    public static Map<String, Supplier<Object>> all() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        // name → constructor; keep in pipeline order
        m.put("inspect", InspectCommand::new);
        m.put("bench-forward", BenchCommand::new);
        m.put("route", org.routecal.route.RouteCommand::new);
        m.put("bracket", org.routecal.route.BracketCommand::new);
        return m;
    }
}
