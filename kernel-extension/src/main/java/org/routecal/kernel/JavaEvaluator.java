package org.routecal.kernel;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.ExpressionSnippet;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.CompletionInfo;
import jdk.jshell.SourceCodeAnalysis.Suggestion;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.VarSnippet;

import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Java cells through JShell, in the kernel's JVM (so results are live objects the kernel can render, and classes on
 * the kernel's class path — routecal, Tablesaw — are usable without setup). A cell is split into JShell snippets;
 * errors are reported against the cell's own line numbers.
 */
final class JavaEvaluator implements AutoCloseable {
    /** Marks "the cell ended with a declaration or statement": nothing to show. */
    static final Object NO_VALUE = new Object();

    private static final String[] STARTUP = {
        "import java.util.*;", "import java.util.stream.*;", "import java.io.*;", "import java.nio.file.*;",
        "import tech.tablesaw.api.*;", "import org.routecal.report.*;",
    };

    private final StoppableExecutionControl control = new StoppableExecutionControl();
    private final JShell shell;
    private final SourceCodeAnalysis analysis;
    /** Snippet id → where its source came from, for runtime stack frames in methods defined by earlier cells. */
    private final Map<String, Origin> origins = new HashMap<>();

    private record Origin(String cellLabel, int firstLine, String source) {}

    JavaEvaluator() {
        JShell.Builder b = JShell.builder().executionEngine(StoppableExecutionControl.providerFor(control), Map.of());
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            b.compilerOptions("--add-modules", "jdk.incubator.vector");
        }
        shell = b.build();
        analysis = shell.sourceCodeAnalysis();
        for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            if (!entry.isBlank()) shell.addToClasspath(entry);
        }
        for (String s : STARTUP) shell.eval(s);
    }

    /**
     * Evaluates Java source that starts at {@code firstLine} (1-based) of the cell labelled {@code cellLabel}.
     * Returns the live value of a trailing expression, or {@link #NO_VALUE}.
     */
    Object eval(String code, String cellLabel, int firstLine) throws CellException {
        String rest = code;
        int line = firstLine;
        Object value = NO_VALUE;
        while (true) {
            CompletionInfo info = analysis.analyzeCompletion(rest);
            switch (info.completeness()) {
                case EMPTY:
                    return value;
                case DEFINITELY_INCOMPLETE:
                case CONSIDERED_INCOMPLETE:
                    // JShell gives no source for these; evaluating the rest yields javac's own message.
                    evalSnippet(rest, cellLabel, line + leadingNewlines(rest));
                    throw new CellException.CompilationError("incomplete Java at " + cellLabel + " line "
                            + (line + leadingNewlines(rest)), List.of("the cell ends inside a statement or block"));
                default:
                    break;
            }
            String remaining = info.remaining();
            String consumed = rest.substring(0, rest.length() - remaining.length());
            value = evalSnippet(info.source(), cellLabel, line + leadingNewlines(consumed));
            line += count(consumed, '\n');
            rest = remaining;
        }
    }

    /** Declares {@code var name = (type) Results.take(id);} quietly (used by a magic's {@code --as}). */
    void bind(String name, String typeName, String resultId) throws CellException {
        String code = "var " + name + " = (" + typeName + ") org.routecal.kernel.Results.take(\"" + resultId + "\");";
        eval(code, "--as " + name, 1);
    }

    private Object evalSnippet(String snippet, String cellLabel, int startLine) throws CellException {
        // startLine already counts the snippet's leading blank lines; JShell's own line numbers start at its first
        // non-blank character too.
        String src = snippet.stripLeading();
        Object value = NO_VALUE;
        control.clearStopped();
        List<SnippetEvent> events = shell.eval(src);
        for (SnippetEvent e : events) {
            if (e.causeSnippet() != null) continue; // a dependent snippet being updated, not this one
            Snippet s = e.snippet();
            origins.put(s.id(), new Origin(cellLabel, startLine, src));
            if (e.status() == Snippet.Status.REJECTED) throw compilationError(s, src, cellLabel, startLine);
            if (control.wasStopped()) throw new CellException.Interrupted();
            JShellException ex = e.exception();
            if (ex != null) throw runtimeError(ex, cellLabel);
            boolean isExpression = s instanceof ExpressionSnippet
                    || (s instanceof VarSnippet && s.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND);
            Object live = control.takeLastValue();
            if (isExpression && e.value() != null) value = live;
        }
        return value;
    }

    /**
     * Every error diagnostic of a rejected snippet, each with its cell line and the offending span marked
     * ({@code ^~~~}). javac reports an error inside a lambda twice (once per attribution pass): equal diagnostics are
     * shown once. JShell's wrapper class has no name a user knows, so a bare {@code location: class} line is dropped.
     */
    private CellException compilationError(Snippet s, String src, String cellLabel, int startLine) {
        List<String> lines = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        String first = null;
        int count = 0;
        for (Diag d : (Iterable<Diag>) shell.diagnostics(s)::iterator) {
            if (!d.isError()) continue;
            int pos = (int) Math.max(0, Math.min(src.length(), d.getStartPosition()));
            int end = (int) Math.max(pos + 1, Math.min(src.length(), d.getEndPosition()));
            String msg = d.getMessage(Locale.ROOT);
            if (!seen.add(pos + ":" + end + ":" + msg)) continue;
            count++;
            int lineInSnippet = count(src.substring(0, pos), '\n');
            String where = cellLabel + " line " + (startLine + lineInSnippet);
            List<String> msgLines = msg.lines().filter(l -> !l.strip().matches("location: class\\s*\\S*") || !l.contains("$JShell"))
                    .filter(l -> !l.strip().equals("location: class")).toList();
            if (first == null) first = where + ": " + (msgLines.isEmpty() ? msg : msgLines.get(0));
            lines.add(where + ": " + String.join("\n    ", msgLines));
            int lineStart = src.lastIndexOf('\n', pos - 1) + 1;
            int lineEnd = src.indexOf('\n', pos);
            if (lineEnd < 0) lineEnd = src.length();
            lines.add("    " + src.substring(lineStart, lineEnd));
            int spanEnd = Math.min(end, lineEnd);
            lines.add("    " + " ".repeat(pos - lineStart) + "^" + "~".repeat(Math.max(0, spanEnd - pos - 1)));
        }
        if (first == null) {
            first = cellLabel + " line " + startLine + ": the snippet was rejected";
            lines.add(first);
        } else if (count > 1) {
            lines.add(0, count + " compile errors:");
        }
        return new CellException.CompilationError(first, lines);
    }

    private CellException runtimeError(JShellException ex, String cellLabel) {
        if (ex instanceof UnresolvedReferenceException ure) {
            String msg = "cannot run " + ure.getSnippet().source().strip() + ": it uses a definition that is missing";
            return new CellException.CompilationError(msg, List.of(msg));
        }
        String className = ex instanceof EvalException ee ? ee.getExceptionClassName() : ex.getClass().getName();
        String simple = className.substring(className.lastIndexOf('.') + 1);
        String message = ex.getMessage() == null ? "" : ex.getMessage();
        List<String> tb = new ArrayList<>();
        tb.add(simple + (message.isEmpty() ? "" : ": " + message));
        appendFrames(ex, tb);
        for (Throwable c = ex.getCause(); c != null; c = c.getCause()) {
            String cn = c instanceof EvalException ce ? ce.getExceptionClassName() : c.getClass().getName();
            tb.add("caused by " + cn.substring(cn.lastIndexOf('.') + 1) + (c.getMessage() == null ? "" : ": " + c.getMessage()));
        }
        return new CellException.RuntimeError(simple, (simple + ": " + message).strip(), tb);
    }

    /** Frames in the user's snippets become "at cell line N: source"; library frames above them are kept, up to 8. */
    private void appendFrames(Throwable ex, List<String> tb) {
        List<String> library = new ArrayList<>();
        for (StackTraceElement f : ex.getStackTrace()) {
            String file = f.getFileName();
            if (file != null && file.startsWith("#")) {
                Origin o = origins.get(file.substring(1));
                if (o == null) continue;
                int line = o.firstLine() + Math.max(0, f.getLineNumber() - 1);
                String text = o.source().lines().skip(Math.max(0, f.getLineNumber() - 1)).findFirst().orElse("").strip();
                tb.addAll(library);
                library.clear();
                tb.add("  at " + o.cellLabel() + " line " + line + ": " + text);
            } else if (!f.getClassName().startsWith("jdk.internal.") && !f.getClassName().startsWith("java.lang.reflect.")
                    && !f.getClassName().startsWith("org.routecal.kernel.") && library.size() < 8
                    && tb.size() == 1) {
                library.add("  at " + f);
            }
        }
        if (tb.size() == 1) tb.addAll(library);
    }

    /** Jupyter is_complete: "complete", "incomplete" (as an indent string), or "invalid". */
    String isComplete(String code) {
        String rest = code;
        while (true) {
            CompletionInfo info = analysis.analyzeCompletion(rest);
            switch (info.completeness()) {
                case EMPTY: return "complete";
                case COMPLETE:
                case COMPLETE_WITH_SEMI:
                    rest = info.remaining();
                    if (rest.isBlank()) return "complete";
                    break;
                case DEFINITELY_INCOMPLETE:
                case CONSIDERED_INCOMPLETE:
                    return "incomplete";
                default:
                    return "invalid";
            }
        }
    }

    /** Completions at {@code cursor}: the replacement texts and the start of the text they replace. */
    Completions complete(String code, int cursor) {
        // JShell completes one snippet: find where the snippet holding the cursor starts.
        String before = code.substring(0, cursor);
        int start = 0;
        while (true) {
            CompletionInfo info = analysis.analyzeCompletion(before.substring(start));
            if (info.completeness() == SourceCodeAnalysis.Completeness.EMPTY || info.remaining().isEmpty()
                    || !info.completeness().isComplete()) break;
            start = before.length() - info.remaining().length();
        }
        int[] anchor = new int[1];
        List<Suggestion> suggestions = analysis.completionSuggestions(code.substring(start), cursor - start, anchor);
        Set<String> texts = new LinkedHashSet<>();
        for (Suggestion s : suggestions) texts.add(s.continuation());
        return new Completions(new ArrayList<>(texts), start + anchor[0], cursor);
    }

    /** Completion candidates replacing {@code code[start, end)}. */
    record Completions(List<String> matches, int start, int end) {}

    void stop() {
        control.stop();
    }

    void addToClasspath(String path) {
        shell.addToClasspath(path);
    }

    /**
     * Signatures and javadoc of the symbol at {@code cursor} (Shift-Tab), or null. The cursor may sit anywhere in the
     * identifier; a call's opening parenthesis after it selects the method's overloads.
     */
    String documentation(String code, int cursor) {
        int at = Math.max(0, Math.min(cursor, code.length()));
        while (at < code.length() && Character.isJavaIdentifierPart(code.charAt(at))) at++;
        int paren = at;
        while (paren < code.length() && Character.isWhitespace(code.charAt(paren))) paren++;
        if (paren < code.length() && code.charAt(paren) == '(') at = paren + 1;
        List<SourceCodeAnalysis.Documentation> docs = analysis.documentation(code, at, true);
        if (docs == null || docs.isEmpty()) return null;
        StringBuilder b = new StringBuilder();
        for (SourceCodeAnalysis.Documentation d : docs) {
            if (b.length() > 0) b.append("\n\n");
            b.append(d.signature());
            if (d.javadoc() != null && !d.javadoc().isBlank()) b.append('\n').append(d.javadoc());
        }
        return b.toString();
    }

    @Override
    public void close() {
        shell.close();
    }

    static int count(String s, char c) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) == c) n++;
        return n;
    }

    private static int leadingNewlines(String s) {
        int n = 0;
        for (int i = 0; i < s.length() && Character.isWhitespace(s.charAt(i)); i++) if (s.charAt(i) == '\n') n++;
        return n;
    }
}
