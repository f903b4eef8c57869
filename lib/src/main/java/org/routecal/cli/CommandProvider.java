package org.routecal.cli;

import java.util.Map;
import java.util.function.Supplier;

/**
 * Adds subcommands from a jar that is not part of routecal.jar (the kernel jar's {@code kernel install} and
 * {@code run-notebook}): listed in {@code META-INF/services/org.routecal.cli.CommandProvider} and found with
 * {@link java.util.ServiceLoader} when {@link Main#commandLine()} builds the tree. The headless lib jar runs without
 * any provider.
 */
public interface CommandProvider {
    /** Name → fresh picocli command object, as in {@link Commands#all()}. */
    Map<String, Supplier<Object>> commands();
}
