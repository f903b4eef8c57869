package org.routecal.kernel;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code routecal kernel …}: the Jupyter kernel's management commands. */
@Command(name = "kernel", mixinStandardHelpOptions = true, subcommands = KernelInstallCommand.class,
        description = "Manage the routecal Jupyter kernel.")
public final class KernelCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
