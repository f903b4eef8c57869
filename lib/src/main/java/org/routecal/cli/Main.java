package org.routecal.cli;

import org.routecal.session.StageCommand;
import org.routecal.RoutecalException;
import org.routecal.pipeline.Progress;
import picocli.CommandLine;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Supplier;

/** Entry point of routecal.jar: {@code routecal <command> [options]}. */
@CommandLine.Command(name = "routecal", mixinStandardHelpOptions = true, version = "routecal 0.1.0",
        description = "Routing-aware calibration and quantization for Mixture-of-Experts LLMs.")
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs one command line and returns the exit code (0 ok, 2 user error, 1 internal error). */
    public static int run(String... args) {
        CommandLine cli = commandLine();
        cli.setExecutionStrategy(parseResult -> {
            CommandLine leaf = parseResult.asCommandLineList().get(parseResult.asCommandLineList().size() - 1);
            Object command = leaf.getCommand();
            if (CommandLine.printHelpIfRequested(parseResult)) return 0;
            if (command instanceof StageCommand) {
                try {
                    Object result = ((StageCommand) command).execute(TerminalProgress.stderr());
                    if (result != null) System.out.println(result);
                    return 0;
                } catch (RoutecalException e) {
                    System.err.println("error: " + e.getMessage());
                    return e.exitCode();
                } catch (Exception e) {
                    System.err.println("internal error: " + e);
                    e.printStackTrace();
                    return 1;
                }
            }
            if (command instanceof Runnable) ((Runnable) command).run();
            return 0;
        });
        return cli.execute(args);
    }

    /** The command tree; also used by the kernel to parse magics with exactly the CLI's options. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        for (Map.Entry<String, Supplier<Object>> e : Commands.all().entrySet()) {
            cli.addSubcommand(e.getKey(), e.getValue().get());
        }
        // Commands from jars beside routecal.jar (the kernel jar): see CommandProvider.
        for (CommandProvider provider : ServiceLoader.load(CommandProvider.class)) {
            for (Map.Entry<String, Supplier<Object>> e : provider.commands().entrySet()) {
                cli.addSubcommand(e.getKey(), e.getValue().get());
            }
        }
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    /** The command tree this object is the root of (picocli injects it; {@code usage(this)} would know no commands). */
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A bare {@code routecal}: the usage with every command, as {@code --help} prints it. */
    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
