package org.routecal.kernel;

import org.routecal.RoutecalException;
import org.routecal.cli.Main;
import org.routecal.cli.StageCommand;
import org.routecal.pipeline.Progress;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Line magics ({@code %route --model m --as r}) and the {@code %%config} cell magic. A line magic is a CLI stage
 * command: its arguments are parsed by the CLI's own picocli tree ({@link Main#commandLine()}), with {@code %%config}
 * defaults as picocli default values, and the command's {@link StageCommand#execute} runs on a stoppable thread. The
 * magic-only {@code --as NAME} is removed first and binds the result to a notebook variable.
 */
final class MagicRunner {
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*");
    private final RunDefaults defaults = new RunDefaults();

    /** What a magic produced, and the variable it should be bound to (null: none). */
    record Outcome(Object value, String bindAs) {}

    /** Magic name → picocli command line, for commands usable as magics. */
    Map<String, CommandLine> magics() {
        return magics(root());
    }

    /** The CLI's command tree with the {@code %%config} defaults applied. */
    private CommandLine root() {
        CommandLine root = Main.commandLine();
        root.setDefaultValueProvider(defaults);
        return root;
    }

    private static Map<String, CommandLine> magics(CommandLine root) {
        Map<String, CommandLine> m = new TreeMap<>();
        for (Map.Entry<String, CommandLine> e : root.getSubcommands().entrySet()) {
            Object cmd = e.getValue().getCommand();
            if (cmd instanceof StageCommand && !(cmd instanceof ShellOnly)) m.put(e.getKey(), e.getValue());
        }
        return m;
    }

    Outcome runLine(String name, List<String> rawArgs, Progress progress) throws CellException, InterruptedException {
        if (name.equals("config")) return new Outcome(defaults.describe(), null);
        CommandLine root = root();
        Map<String, CommandLine> magics = magics(root);
        CommandLine cmd = magics.get(name);
        if (cmd == null) {
            String msg = "unknown magic %" + name;
            throw new CellException.UsageError(msg, List.of(msg, magicList(magics)));
        }
        List<String> args = new ArrayList<>(rawArgs);
        String bindAs = extractAs(args, name, cmd);
        CommandLine.ParseResult parsed;
        args.add(0, name);
        try {
            // Parsed from the root, exactly as the CLI parses "routecal <name> <args>" (picocli needs the whole tree).
            parsed = root.parseArgs(args.toArray(new String[0]));
        } catch (CommandLine.ParameterException e) {
            throw new CellException.UsageError("%" + name + ": " + e.getMessage(),
                    List.of("%" + name + ": " + e.getMessage(), usage(e.getCommandLine())));
        }
        CommandLine.ParseResult leafResult = parsed.subcommand();
        while (leafResult.hasSubcommand()) leafResult = leafResult.subcommand();
        CommandLine leaf = leafResult.commandSpec().commandLine();
        if (leafResult.isUsageHelpRequested()) return new Outcome(usage(leaf), null);
        if (!(leaf.getCommand() instanceof StageCommand stage)) return new Outcome(usage(leaf), null);
        StoppableThread.Outcome run = StoppableThread.run("routecal-magic-" + name, () -> stage.execute(progress));
        if (run.stopped()) throw new CellException.Interrupted();
        if (run.failure() != null) throw stageError(name, run.failure());
        return new Outcome(run.value(), bindAs);
    }

    /** {@code %%config [--replace]} with a YAML/JSON body. */
    String runConfig(List<String> args, String body) throws CellException {
        boolean replace = false;
        for (String a : args) {
            if (a.equals("--replace")) replace = true;
            else {
                String msg = "%%config: unknown option " + a;
                throw new CellException.UsageError(msg, List.of(msg, "usage: %%config [--replace]  (then a YAML or JSON"
                        + " block of option: value, or command: {option: value})"));
            }
        }
        Map<String, Set<String>> options = new TreeMap<>();
        magics().forEach((n, c) -> options.put(n, RunDefaults.optionNames(c.getCommandSpec())));
        defaults.update(body, replace, options);
        return defaults.describe();
    }

    /** Removes {@code --as NAME} / {@code --as=NAME} from args; returns NAME or null. */
    private static String extractAs(List<String> args, String magic, CommandLine cmd) throws CellException {
        String name = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--as") || a.startsWith("--as=")) {
                if (a.equals("--as")) {
                    if (i + 1 >= args.size()) throw asError(magic, "--as needs a variable name", cmd);
                    name = args.remove(i + 1);
                } else {
                    name = a.substring(5);
                }
                args.remove(i);
                i--;
            }
        }
        if (name != null && !IDENTIFIER.matcher(name).matches()) {
            throw asError(magic, "--as " + name + ": not a Java identifier", cmd);
        }
        return name;
    }

    private static CellException asError(String magic, String msg, CommandLine cmd) {
        return new CellException.UsageError("%" + magic + ": " + msg, List.of("%" + magic + ": " + msg, usage(cmd)));
    }

    private static CellException stageError(String magic, Throwable t) {
        if (t instanceof RoutecalException) {
            return new CellException.RuntimeError("RoutecalException", "%" + magic + ": " + t.getMessage(),
                    List.of("error: " + t.getMessage()));
        }
        // An internal failure of a stage: its own frames help a bug report; the kernel's frames do not.
        List<String> tb = new ArrayList<>();
        tb.add(t.toString());
        StackTraceElement[] frames = t.getStackTrace();
        for (int i = 0; i < Math.min(frames.length, 12); i++) {
            if (frames[i].getClassName().startsWith("org.routecal.kernel.")) break;
            tb.add("  at " + frames[i]);
        }
        return new CellException.RuntimeError(t.getClass().getSimpleName(), "%" + magic + ": " + t, tb);
    }

    static String usage(CommandLine cmd) {
        StringWriter w = new StringWriter();
        cmd.usage(new PrintWriter(w), CommandLine.Help.Ansi.OFF);
        // The CLI's usage line says "routecal route"; in a notebook the same options follow "%route".
        return w.toString().replace("Usage: routecal ", "Usage: %").stripTrailing();
    }

    private static String magicList(Map<String, CommandLine> magics) {
        StringBuilder b = new StringBuilder("available magics: %%config");
        magics.keySet().forEach(n -> b.append(", %").append(n));
        return b.toString();
    }
}
