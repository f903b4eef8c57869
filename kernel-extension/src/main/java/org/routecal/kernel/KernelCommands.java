package org.routecal.kernel;

import org.routecal.cli.CommandProvider;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** Registers the kernel jar's CLI commands with routecal's command tree (via ServiceLoader). */
public final class KernelCommands implements CommandProvider {
    @Override
    public Map<String, Supplier<Object>> commands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("kernel", KernelCommand::new);
        m.put("run-notebook", RunNotebookCommand::new);
        return m;
    }
}
