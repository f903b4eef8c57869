package org.routecal.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.gson.Gson;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import org.routecal.RoutecalException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Executes a notebook in this JVM with the kernel's {@link Session} (same JShell, magics and displays as the live
 * kernel) and records what papermill and nbclient record: outputs, execution counts, per-cell timing and status,
 * the notebook's papermill metadata. On the first failing cell the notebook is written up to that cell, with its
 * error output and papermill's error marker cell at the top, and a {@link RoutecalException} names the cell.
 */
final class NotebookRunner {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Gson GSON = new Gson();

    private NotebookRunner() {}

    /** Loads an nbformat 4 notebook. */
    static ObjectNode read(Path file) {
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new RoutecalException("cannot read notebook " + file + ": " + e.getMessage(), e);
        }
        if (!(n instanceof ObjectNode nb) || !nb.path("cells").isArray()) {
            throw new RoutecalException(file + ": not a Jupyter notebook (no 'cells' list)");
        }
        if (nb.path("nbformat").asInt() != 4) {
            throw new RoutecalException(file + ": field 'nbformat' is " + nb.path("nbformat") + "; only nbformat 4 is supported");
        }
        return nb;
    }

    /** How a run reports and bounds itself (papermill's --log-output and --execution-timeout, progress per cell). */
    record Options(boolean logOutput, double cellTimeoutSeconds, java.io.PrintStream progress) {}

    /**
     * Runs every code cell of {@code nb} in order; returns normally only if all succeeded. After every cell the
     * notebook is written to {@code out}, so a crash leaves the cells so far, with their outputs and the error.
     */
    static void execute(ObjectNode nb, Path in, Path out, Options options) {
        ObjectNode meta = nb.with("metadata");
        ObjectNode pm = meta.with("papermill");
        pm.put("input_path", in.toString());
        pm.put("output_path", out.toString());
        ObjectNode ks = meta.putObject("kernelspec");
        ks.put("name", "routecal");
        ks.put("display_name", "routecal (Java " + Runtime.version().feature() + ")");
        ks.put("language", "java");
        ObjectNode li = meta.putObject("language_info");
        li.put("name", "java");
        li.put("version", Runtime.version().toString());
        li.put("mimetype", "text/x-java-source");
        li.put("file_extension", ".jshell");
        li.put("codemirror_mode", "java");
        ArrayNode cells = (ArrayNode) nb.get("cells");
        for (JsonNode c : cells) {
            if (!"code".equals(c.path("cell_type").asText())) continue;
            ObjectNode cell = (ObjectNode) c;
            cell.putArray("outputs");
            cell.putNull("execution_count");
            ObjectNode cpm = cell.with("metadata").putObject("papermill");
            cpm.put("exception", (String) null);
            cpm.putNull("start_time");
            cpm.putNull("end_time");
            cpm.putNull("duration");
            cpm.put("status", "pending");
        }
        Instant start = Instant.now();
        pm.put("start_time", start.toString());
        pm.put("exception", false);
        Outputs outputs = new Outputs(options.logOutput() ? options.progress() : null);
        int codeCells = 0;
        for (JsonNode c : cells) if ("code".equals(c.path("cell_type").asText())) codeCells++;
        PrintStream oldOut = System.out, oldErr = System.err;
        CellException failure = null;
        int failedIndex = -1, count = 0;
        java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "routecal-cell-timeout");
            t.setDaemon(true);
            return t;
        });
        try (Session session = new Session(outputs)) {
            session.forClient("run-notebook");
            System.setOut(new PrintStream(new Capture(outputs, "stdout"), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new Capture(outputs, "stderr"), true, StandardCharsets.UTF_8));
            for (int i = 0; i < cells.size(); i++) {
                ObjectNode cell = (ObjectNode) cells.get(i);
                if (!"code".equals(cell.path("cell_type").asText())) continue;
                count++;
                ObjectNode cpm = cell.with("metadata").with("papermill");
                Instant t0 = Instant.now();
                cpm.put("start_time", t0.toString());
                cpm.put("status", "running");
                cell.put("execution_count", count);
                outputs.begin(cell.withArray("outputs"));
                options.progress().printf("run-notebook: cell %d of %d (notebook cell %d) …%n", count, codeCells, i + 1);
                boolean[] timedOut = {false};
                java.util.concurrent.ScheduledFuture<?> deadline = options.cellTimeoutSeconds() <= 0 ? null
                        : timer.schedule(() -> {
                            timedOut[0] = true;
                            session.interrupt();
                        }, (long) (options.cellTimeoutSeconds() * 1000), java.util.concurrent.TimeUnit.MILLISECONDS);
                try {
                    DisplayData result = session.eval(Parameters.source(cell), "cell [" + count + "]");
                    System.out.flush();
                    System.err.flush();
                    if (result != null) outputs.result(result, count);
                } catch (CellException e) {
                    System.out.flush();
                    System.err.flush();
                    if (timedOut[0]) {
                        e = new CellException.RuntimeError("CellTimeoutError", "CellTimeoutError: the cell ran longer than "
                                + "--execution-timeout " + options.cellTimeoutSeconds() + " s and was interrupted",
                                List.of("the cell ran longer than --execution-timeout " + options.cellTimeoutSeconds() + " s and was interrupted"));
                    }
                    outputs.error(e);
                    // nbclient (and so papermill) lets a cell tagged raises-exception fail without stopping the run.
                    if (!Parameters.hasTag(cell, "raises-exception")) {
                        failure = e;
                        failedIndex = i;
                    }
                }
                Instant t1 = Instant.now();
                cpm.put("end_time", t1.toString());
                cpm.put("duration", Duration.between(t0, t1).toNanos() / 1e9);
                cpm.put("status", failure == null ? "completed" : "failed");
                cpm.put("exception", failure != null);
                ObjectNode ex = cell.with("metadata").putObject("execution");
                ex.put("iopub.execute_input", t0.toString());
                ex.put("shell.execute_reply", t1.toString());
                if (deadline != null) deadline.cancel(false);
                options.progress().printf("run-notebook: cell %d of %d %s in %.1f s%n", count, codeCells,
                        failure != null ? "FAILED" : "done", Duration.between(t0, t1).toNanos() / 1e9);
                write(nb, out);
                if (failure != null) break;
            }
        } finally {
            timer.shutdownNow();
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        Instant end = Instant.now();
        pm.put("end_time", end.toString());
        pm.put("duration", Duration.between(start, end).toNanos() / 1e9);
        pm.put("exception", failure != null);
        if (failure != null) {
            ObjectNode marker = cells.objectNode();
            marker.put("cell_type", "markdown");
            marker.put("id", "papermill-error-cell");
            marker.putObject("metadata").putArray("tags").add("papermill-error-cell-tag");
            marker.put("source", "<span style=\"color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif;"
                    + " font-size:2em;\">An Exception was encountered at 'In [" + count + "]'.</span>");
            cells.insert(0, marker);
            throw new CellFailed(count, failedIndex, failure);
        }
    }

    /** A cell raised an error; the message names the cell and the error. */
    static final class CellFailed extends RoutecalException {
        CellFailed(int executionCount, int index, CellException e) {
            super("cell In [" + executionCount + "] (cell " + (index + 1) + " of the notebook) failed: "
                    + (e.getMessage().startsWith(e.ename()) ? "" : e.ename() + ": ") + e.getMessage() + "\n"
                    + String.join("\n", e.traceback()));
        }
    }

    static void write(ObjectNode nb, Path file) {
        try {
            byte[] bytes = JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(nb);
            org.routecal.io.AtomicFiles.write(file, bytes);
        } catch (IOException e) {
            throw new RoutecalException("cannot write notebook " + file + ": " + e.getMessage(), e);
        }
    }

    /** Collects one cell's outputs in nbformat form; the sink the {@link Session} displays into. */
    static final class Outputs implements OutputSink {
        /** Where --log-output echoes outputs as they come (null: not echoed). */
        private final java.io.PrintStream log;
        private ArrayNode current;

        Outputs(java.io.PrintStream log) {
            this.log = log;
        }
        private final Map<String, ObjectNode> byDisplayId = new HashMap<>();

        synchronized void begin(ArrayNode outputs) {
            current = outputs;
        }

        synchronized void stream(String name, String text) {
            if (current == null || text.isEmpty()) return;
            if (log != null) log.print(text);
            JsonNode last = current.size() == 0 ? null : current.get(current.size() - 1);
            if (last != null && "stream".equals(last.path("output_type").asText()) && name.equals(last.path("name").asText())) {
                ((ObjectNode) last).put("text", last.path("text").asText() + text);
                return;
            }
            ObjectNode o = current.addObject();
            o.put("output_type", "stream");
            o.put("name", name);
            o.put("text", text);
        }

        @Override public synchronized void display(DisplayData data) {
            if (log != null) log.println(data.getData(io.github.spencerpark.jupyter.kernel.display.mime.MIMEType.TEXT_PLAIN));
            ObjectNode o = current.addObject();
            o.put("output_type", "display_data");
            fill(o, data);
            if (data.hasDisplayId()) byDisplayId.put(data.getDisplayId(), o);
        }

        @Override public synchronized void updateDisplay(String displayId, DisplayData data) {
            ObjectNode o = byDisplayId.get(displayId);
            if (o != null) fill(o, data);
        }

        synchronized void result(DisplayData data, int count) {
            if (log != null) log.println(data.getData(io.github.spencerpark.jupyter.kernel.display.mime.MIMEType.TEXT_PLAIN));
            ObjectNode o = current.addObject();
            o.put("output_type", "execute_result");
            o.put("execution_count", count);
            fill(o, data);
        }

        synchronized void error(CellException e) {
            ObjectNode o = current.addObject();
            o.put("output_type", "error");
            o.put("ename", e.ename());
            // Jupyter's convention: ename is the type, evalue the message without it.
            String prefix = e.ename() + ": ";
            o.put("evalue", e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage());
            ArrayNode tb = o.putArray("traceback");
            e.traceback().forEach(tb::add);
        }

        /** DisplayData keeps its maps private; its Gson form is what basekernel sends, so use that. */
        private static void fill(ObjectNode o, DisplayData d) {
            try {
                JsonNode tree = JSON.readTree(GSON.toJson(d));
                o.set("data", tree.path("data").isObject() ? tree.get("data") : JSON.createObjectNode());
                o.set("metadata", tree.path("metadata").isObject() ? tree.get("metadata") : JSON.createObjectNode());
            } catch (IOException e) {
                throw new IllegalStateException("display data did not serialize", e);
            }
        }
    }

    /** System.out/err during a cell → stream outputs; decoded on flush (println flushes), so UTF-8 stays whole. */
    private static final class Capture extends OutputStream {
        private final Outputs outputs;
        private final String name;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

        Capture(Outputs outputs, String name) {
            this.outputs = outputs;
            this.name = name;
        }

        @Override public synchronized void write(int b) {
            buffer.write(b);
        }

        @Override public synchronized void write(byte[] b, int off, int len) {
            buffer.write(b, off, len);
        }

        @Override public synchronized void flush() {
            if (buffer.size() == 0) return;
            String text = buffer.toString(StandardCharsets.UTF_8);
            buffer.reset();
            outputs.stream(name, text);
        }
    }

}
