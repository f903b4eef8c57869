package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One notebook's state — JShell, run defaults, rendering — shared by the live kernel and the headless runner. A cell
 * is Java, line magics ({@code %name args}, each on its own line, mixed with Java lines and run in order), or a
 * cell magic ({@code %%config} on the first line). The last piece's value is the cell's result; rich results of
 * earlier pieces and progress bars go to the {@link OutputSink} as they happen.
 */
public final class Session implements AutoCloseable {
    private final OutputSink sink;
    private final JavaEvaluator java = new JavaEvaluator();
    private final MagicRunner magics = new MagicRunner();
    private final Rendering rendering = new Rendering();

    public Session(OutputSink sink) {
        this.sink = sink;
    }

    /**
     * Runs a cell; returns the bundle for its execute_result, or null when it has none.
     * {@code cellLabel} names the cell in error messages (e.g. {@code "cell [3]"}).
     */
    public DisplayData eval(String cell, String cellLabel) throws CellException {
        StoppableThread.beginCell();
        try {
            List<Piece> pieces = split(cell);
            Object last = JavaEvaluator.NO_VALUE;
            for (int i = 0; i < pieces.size(); i++) {
                Piece p = pieces.get(i);
                Object v = run(p, cellLabel);
                if (i == pieces.size() - 1) last = v;
                // A magic that is not the cell's last piece shows its result at once (Java pieces, as in any
                // notebook, show only a trailing expression).
                else if (p.kind != Kind.JAVA && v != null) rendering.render(v).forEach(sink::display);
            }
            if (last == JavaEvaluator.NO_VALUE || last == null) return null;
            List<DisplayData> bundles = rendering.render(last);
            for (int i = 0; i < bundles.size() - 1; i++) sink.display(bundles.get(i));
            return bundles.isEmpty() ? null : bundles.get(bundles.size() - 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CellException.Interrupted();
        }
    }

    /** Magics of the kernel itself (not CLI commands), with a one-line description each. */
    static final Map<String, String> KERNEL_MAGICS = new java.util.TreeMap<>(Map.of(
            "lsmagic", "list the magics",
            "jars", "add jar files (or glob patterns such as lib/*.jar) to the class path, as IJava's %jars",
            "classpath", "add jars or class folders to the class path (separated by ':' or spaces), as IJava's %classpath",
            "maven", "add Maven artifacts with their dependencies (G:A:V …, --repository URL), as IJava's %maven"));

    private Object run(Piece p, String cellLabel) throws CellException, InterruptedException {
        if (p.kind == Kind.LINE_MAGIC && KERNEL_MAGICS.containsKey(p.name)) return kernelMagic(p.name, interpolate(p.args, cellLabel));
        switch (p.kind) {
            case JAVA:
                return java.eval(p.text, cellLabel, p.line);
            case CELL_MAGIC: {
                if (!p.name.equals("config")) {
                    String msg = "unknown cell magic %%" + p.name;
                    throw new CellException.UsageError(msg, List.of(msg, "available cell magics: %%config"));
                }
                return magics.runConfig(p.args, p.text);
            }
            default: {
                MagicRunner.Outcome o = magics.runLine(p.name, interpolate(p.args, cellLabel), new KernelProgress(sink));
                if (o.bindAs() != null) {
                    if (o.value() == null) {
                        String msg = "%" + p.name + " returned no result to bind to " + o.bindAs();
                        throw new CellException.UsageError(msg, List.of(msg));
                    }
                    java.bind(o.bindAs(), Results.publicTypeName(o.value()), Results.put(o.value()));
                }
                return o.value();
            }
        }
    }

    /** {@code ${name}} → the notebook variable's value ({@link Interpolation}). */
    private List<String> interpolate(List<String> args, String cellLabel) throws CellException {
        try {
            return Interpolation.apply(args, name -> java.eval(name, cellLabel, 1));
        } catch (CellException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private Object kernelMagic(String name, List<String> args) throws CellException {
        if (name.equals("lsmagic")) {
            StringBuilder b = new StringBuilder("line magics (pipeline stages take the CLI's options; %name --help):\n");
            magics.magics().keySet().forEach(n -> b.append("  %").append(n).append('\n'));
            KERNEL_MAGICS.forEach((n, d) -> b.append("  %").append(n).append("  — ").append(d).append('\n'));
            return b.append("cell magics:\n  %%config  — run defaults for later magics (YAML or JSON)").toString();
        }
        List<String> added = new ArrayList<>();
        if (name.equals("maven")) {
            for (Path jar : MavenMagic.resolve(args)) {
                java.addToClasspath(jar.toString());
                added.add(jar.getFileName().toString());
            }
            return "added to the class path: " + String.join(", ", added);
        }
        for (String arg : args) {
            for (String entry : arg.split(File.pathSeparator)) {
                if (entry.isBlank()) continue;
                for (Path p : Classpath.expand(entry)) {
                    if (!Files.exists(p)) {
                        String msg = "%" + name + ": " + p + " does not exist";
                        throw new CellException.UsageError(msg, List.of(msg));
                    }
                    java.addToClasspath(p.toAbsolutePath().normalize().toString());
                    added.add(p.toString());
                }
            }
        }
        if (added.isEmpty()) {
            String msg = "%" + name + ": no path given (usage: %" + name + " PATH…; globs such as lib/*.jar work)";
            throw new CellException.UsageError(msg, List.of(msg));
        }
        return "added to the class path: " + String.join(", ", added);
    }

    /** Shift-Tab: a magic's --help, else JShell's signatures and javadoc for the symbol at the cursor. */
    public DisplayData inspect(String code, int cursor) {
        int lineStart = code.lastIndexOf('\n', Math.max(0, cursor - 1)) + 1;
        int lineEnd = code.indexOf('\n', cursor);
        String line = code.substring(lineStart, lineEnd < 0 ? code.length() : lineEnd).strip();
        if (line.startsWith("%")) {
            String name = line.replaceFirst("^%+", "").split("\\s+")[0];
            picocli.CommandLine c = magics.magics().get(name);
            if (c != null) return new DisplayData(MagicRunner.usage(c));
            if (KERNEL_MAGICS.containsKey(name)) return new DisplayData("%" + name + ": " + KERNEL_MAGICS.get(name));
            if (name.equals("config")) return new DisplayData("%%config [--replace]: run defaults (YAML or JSON) for later magics");
            return null;
        }
        String doc = java.documentation(code, cursor);
        return doc == null ? null : new DisplayData(doc);
    }

    /** Names the front end (Jupyter client session) whose request runs next; see {@link Rendering#forClient}. */
    public void forClient(String sessionId) {
        rendering.forClient(sessionId);
    }

    /** The renderer, for values a host wants to show itself. */
    public Rendering rendering() {
        return rendering;
    }

    public String isComplete(String code) {
        String stripped = code.strip();
        if (stripped.startsWith("%%")) return "complete";
        StringBuilder javaOnly = new StringBuilder();
        for (String line : code.split("\n", -1)) {
            if (!line.strip().startsWith("%")) javaOnly.append(line).append('\n');
        }
        return java.isComplete(javaOnly.toString());
    }

    /** Completions: magic names and their options on a magic line, JShell's everywhere else. */
    public JavaEvaluator.Completions complete(String code, int cursor) {
        int lineStart = code.lastIndexOf('\n', cursor - 1) + 1;
        String line = code.substring(lineStart, cursor);
        if (line.stripLeading().startsWith("%")) {
            int wordStart = cursor;
            while (wordStart > lineStart && !Character.isWhitespace(code.charAt(wordStart - 1))) wordStart--;
            String word = code.substring(wordStart, cursor);
            TreeSet<String> out = new TreeSet<>();
            Map<String, picocli.CommandLine> all = magics.magics();
            if (wordStart == lineStart + line.indexOf('%')) {
                String prefix = word.replaceFirst("^%+", "");
                all.keySet().stream().filter(n -> n.startsWith(prefix)).forEach(n -> out.add("%" + n));
                KERNEL_MAGICS.keySet().stream().filter(n -> n.startsWith(prefix)).forEach(n -> out.add("%" + n));
                if ("config".startsWith(prefix)) out.add("%%config");
            } else if (word.startsWith("-")) {
                String magic = line.strip().split("\\s+")[0].replaceFirst("^%+", "");
                picocli.CommandLine c = all.get(magic);
                if (c != null) {
                    for (var o : c.getCommandSpec().options()) {
                        for (String n : o.names()) if (n.startsWith(word)) out.add(n);
                    }
                    if ("--as".startsWith(word)) out.add("--as");
                }
            }
            return new JavaEvaluator.Completions(new ArrayList<>(out), wordStart, cursor);
        }
        return java.complete(code, cursor);
    }

    /** The magics and their shared pipeline session (tests). */
    MagicRunner magicRunner() { return magics; }

    /** Stops the running cell (interrupt request). */
    public void interrupt() {
        java.stop();
    }

    @Override
    public void close() {
        try {
            java.close();
        } finally {
            magics.close();
        }
    }

    // ---- splitting a cell into Java and magic pieces

    private enum Kind { JAVA, LINE_MAGIC, CELL_MAGIC }

    private record Piece(Kind kind, String name, List<String> args, String text, int line) {}

    static List<Piece> split(String cell) throws CellException {
        List<Piece> pieces = new ArrayList<>();
        String[] lines = cell.split("\n", -1);
        int first = 0;
        while (first < lines.length && lines[first].isBlank()) first++;
        if (first < lines.length && lines[first].strip().startsWith("%%")) {
            String head = lines[first].strip().substring(2);
            List<String> words = MagicArgs.split(head);
            if (words.isEmpty()) throw new CellException.UsageError("%% without a magic name", List.of("usage: %%config"));
            String body = String.join("\n", Arrays.copyOfRange(lines, first + 1, lines.length));
            pieces.add(new Piece(Kind.CELL_MAGIC, words.get(0), words.subList(1, words.size()), body, first + 2));
            return pieces;
        }
        StringBuilder javaText = new StringBuilder();
        int javaStart = 1;
        for (int i = 0; i < lines.length; i++) {
            String s = lines[i].strip();
            if (s.startsWith("%") && !s.startsWith("%%")) {
                if (!javaText.toString().isBlank()) pieces.add(new Piece(Kind.JAVA, null, List.of(), javaText.toString(), javaStart));
                javaText.setLength(0);
                List<String> words = MagicArgs.split(s.substring(1));
                if (words.isEmpty()) throw new CellException.UsageError("% without a magic name", List.of("usage: %name [options]"));
                pieces.add(new Piece(Kind.LINE_MAGIC, words.get(0), words.subList(1, words.size()), s, i + 1));
                javaStart = i + 2;
            } else {
                if (javaText.length() == 0) javaStart = i + 1;
                javaText.append(lines[i]).append('\n');
            }
        }
        if (!javaText.toString().isBlank()) pieces.add(new Piece(Kind.JAVA, null, List.of(), javaText.toString(), javaStart));
        return pieces;
    }
}
