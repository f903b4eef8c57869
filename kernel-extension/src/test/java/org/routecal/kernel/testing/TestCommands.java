package org.routecal.kernel.testing;

import org.routecal.cli.CommandProvider;

import java.util.Map;
import java.util.function.Supplier;

/** Adds the test stage to the CLI tree when the test class path is on the class path. */
public final class TestCommands implements CommandProvider {
    @Override
    public Map<String, Supplier<Object>> commands() {
        return Map.of("demo-table", DemoTableCommand::new);
    }
}
