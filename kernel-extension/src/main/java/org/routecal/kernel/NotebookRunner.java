package org.routecal.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Executes a notebook on a kernel process through the Jupyter protocol ({@link KernelClient}; routecal's kernel unless
 * another is named) and records what papermill and nbclient record: outputs, execution counts, per-cell timing and status,
 * the notebook's papermill metadata. On the first failing cell the notebook is written up to that cell, with its
 * error output and papermill's error marker cell at the top, and a {@link RoutecalException} names the cell.
 */
final class NotebookRunner {
    private static final ObjectMapper JSON = Json.MAPPER;

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

    /**
     * How a run goes: the kernel (null: routecal's own, in a child JVM with this class path), the kernel's working
     * directory, papermill's --log-output and --execution-timeout, and where progress lines go.
     */
    record Options(String kernel, Path cwd, boolean logOutput, double cellTimeoutSeconds, PrintStream progress) {}

    /**
     * Runs every code cell of {@code nb} in order on a kernel process, through the Jupyter protocol (as papermill does
     * with nbclient); returns normally only if all succeeded. After every cell the notebook is written to
     * {@code out}, so a crash leaves the cells so far, with their outputs and the error.
     */
    static void execute(ObjectNode nb, Path in, Path out, Options options) {
        ObjectNode meta = nb.with("metadata");
        ObjectNode pm = meta.with("papermill");
        pm.put("input_path", in.toString());
        pm.put("output_path", out.toString());
        ArrayNode cells = (ArrayNode) nb.get("cells");
        int codeCells = 0;
        for (JsonNode c : cells) {
            if (!"code".equals(c.path("cell_type").asText())) continue;
            codeCells++;
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
        KernelClient.Result failure = null;
        int failedIndex = -1, count = 0;
        options.progress().println("run-notebook: starting kernel " + (options.kernel() == null ? "routecal" : options.kernel())
                + " in " + options.cwd());
        try (KernelClient kernel = options.kernel() == null ? KernelClient.startRoutecal(options.cwd(), options.progress())
                : KernelClient.startSpec(options.kernel(), options.cwd(), options.progress())) {
            ObjectNode ks = meta.putObject("kernelspec");
            ks.put("name", options.kernel() == null ? "routecal" : options.kernel());
            ks.put("display_name", options.kernel() == null ? "routecal (Java " + Runtime.version().feature() + ")" : options.kernel());
            ks.put("language", kernel.kernelInfo().at("/language_info/name").asText("java"));
            meta.set("language_info", JSON.valueToTree(kernel.languageInfo()));
            for (int i = 0; i < cells.size(); i++) {
                ObjectNode cell = (ObjectNode) cells.get(i);
                if (!"code".equals(cell.path("cell_type").asText())) continue;
                count++;
                ObjectNode cpm = cell.with("metadata").with("papermill");
                Instant t0 = Instant.now();
                cpm.put("start_time", t0.toString());
                cpm.put("status", "running");
                options.progress().printf("run-notebook: cell %d of %d (notebook cell %d) …%n", count, codeCells, i + 1);
                boolean[] timedOut = {false};
                KernelClient.Result r = kernel.execute(Parameters.source(cell), options.cellTimeoutSeconds(),
                        options.logOutput() ? options.progress() : null, timedOut);
                cell.set("outputs", r.outputs());
                if (r.executionCount() != null) cell.put("execution_count", r.executionCount());
                if (!r.ok()) {
                    if (timedOut[0]) {
                        String msg = "the cell ran longer than --execution-timeout " + options.cellTimeoutSeconds() + " s and was interrupted";
                        r.outputs().addObject().put("output_type", "error").put("ename", "CellTimeoutError").put("evalue", msg)
                                .putArray("traceback").add(msg);
                        r = new KernelClient.Result(r.outputs(), r.executionCount(), false, "CellTimeoutError", msg, List.of(msg));
                    }
                    // nbclient (and so papermill) lets a cell tagged raises-exception fail without stopping the run.
                    if (!Parameters.hasTag(cell, "raises-exception")) {
                        failure = r;
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
                options.progress().printf("run-notebook: cell %d of %d %s in %.1f s%n", count, codeCells,
                        failure != null ? "FAILED" : "done", Duration.between(t0, t1).toNanos() / 1e9);
                write(nb, out);
                if (failure != null) break;
            }
        } catch (IOException e) {
            throw new RoutecalException("cannot start the kernel: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RoutecalException("interrupted while running the notebook", e);
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
        CellFailed(int executionCount, int index, KernelClient.Result e) {
            super("cell In [" + executionCount + "] (cell " + (index + 1) + " of the notebook) failed: " + e.ename() + ": "
                    + e.evalue() + "\n" + String.join("\n", e.traceback()));
        }
    }

    static void write(ObjectNode nb, Path file) {
        try {
            org.routecal.io.AtomicFiles.write(file, Json.PRETTY.writeValueAsBytes(nb));
        } catch (IOException e) {
            throw new RoutecalException("cannot write notebook " + file + ": " + e.getMessage(), e);
        }
    }
}
