package org.routecal.kernel;

import org.routecal.RoutecalException;
import org.routecal.cli.Main;
import org.routecal.session.StageCommand;
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
final class MagicRunner implements AutoCloseable {
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*");
    private final RunDefaults defaults = new RunDefaults();
    /** Each cell's progress display; the stage session reports through it. */
    private final RelayProgress progressRelay = new RelayProgress();
    /**
     * One pipeline session for the notebook: the backend and every model a magic loads stay loaded for later cells
     * ({@code %route} then {@code %quantize} on the same model loads it once); a checkpoint changed on disk is
     * reloaded. A stopped cell may have been killed mid-load, so a stop replaces the session.
     */
    private org.routecal.session.Session stages = new org.routecal.session.Session(progressRelay);

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
            List<String> known = new ArrayList<>(magics.keySet());
            known.addAll(Session.KERNEL_MAGICS.keySet());
            String guess = Suggest.closest(name, known);
            String msg = "unknown magic %" + name + (guess == null ? "" : "; did you mean %" + guess + "?");
            throw new CellException.UsageError(msg, List.of(msg, magicList(magics)));
        }
        List<String> args = new ArrayList<>(rawArgs);
        String bindAs = extractAs(args, name, cmd);
        checkOptionNames(name, cmd, args);
        CommandLine.ParseResult parsed;
        args.add(0, name);
        try {
            // Parsed from the root, exactly as the CLI parses "routecal <name> <args>" (picocli needs the whole tree).
            parsed = root.parseArgs(args.toArray(new String[0]));
        } catch (CommandLine.ParameterException e) {
            String msg = "%" + name + ": " + e.getMessage();
            throw new CellException.UsageError(msg, List.of(msg, "(%" + name + " --help lists its options)"));
        }
        CommandLine.ParseResult leafResult = parsed.subcommand();
        while (leafResult.hasSubcommand()) leafResult = leafResult.subcommand();
        CommandLine leaf = leafResult.commandSpec().commandLine();
        if (leafResult.isUsageHelpRequested()) return new Outcome(usage(leaf), null);
        if (!(leaf.getCommand() instanceof StageCommand stage)) return new Outcome(usage(leaf), null);
        progressRelay.to(progress);
        StoppableThread.Outcome run;
        try {
            run = StoppableThread.run("routecal-magic-" + name, () -> stage.execute(stages));
        } finally {
            progressRelay.to(Progress.NONE);
        }
        if (run.stopped()) {
            resetStages();
            throw new CellException.Interrupted();
        }
        if (run.failure() != null) throw stageError(name, run.failure());
        return new Outcome(run.value(), bindAs);
    }

    /**
     * Names the first option the command does not have, with the closest real one, before picocli parses (picocli
     * would report a missing required option first when the typo is in a required option's name). Read from the
     * command's own picocli spec, so options added to a command later are known without a change here.
     */
    private static void checkOptionNames(String magic, CommandLine cmd, List<String> args) throws CellException {
        CommandLine.Model.CommandSpec spec = cmd.getCommandSpec();
        if (!spec.subcommands().isEmpty()) return; // a command group: picocli routes and reports
        boolean expectValue = false;
        for (String a : args) {
            if (expectValue) {
                expectValue = false;
                continue;
            }
            if (a.equals("--")) return;
            if (!a.startsWith("-") || a.equals("-") || a.matches("-\\d.*")) continue;
            String optName = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            CommandLine.Model.OptionSpec o = spec.findOption(optName);
            if (o == null && !optName.startsWith("--") && optName.length() > 2) o = spec.findOption(optName.substring(0, 2));
            if (o == null) {
                String guess = Suggest.closest(optName, spec.optionsMap().keySet());
                String msg = "%" + magic + ": unknown option " + optName + (guess == null ? "" : "; did you mean " + guess + "?");
                throw new CellException.UsageError(msg, List.of(msg, "(%" + magic + " --help lists its options)"));
            }
            expectValue = !a.contains("=") && o.arity().min() > 0 && optName.length() == a.length();
        }
    }

    /** The pipeline session the magics share (tests). */
    org.routecal.session.Session stages() { return stages; }

    private void resetStages() {
        try {
            stages.close();
        } catch (RuntimeException e) {
            System.err.println("routecal: releasing the stopped cell's models: " + e.getMessage());
        }
        stages = new org.routecal.session.Session(progressRelay);
    }

    /** Releases the models and the device (kernel shutdown). */
    @Override
    public void close() {
        stages.close();
    }

    /** Forwards to the running cell's progress (the session outlives cells; each cell has its own display). */
    private static final class RelayProgress implements Progress {
        private volatile Progress target = Progress.NONE;

        void to(Progress p) { target = p == null ? Progress.NONE : p; }

        @Override public void start(String task, long total) { target.start(task, total); }
        @Override public void advance(long n) { target.advance(n); }
        @Override public void message(String text) { target.message(text); }
        @Override public void finish() { target.finish(); }
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
