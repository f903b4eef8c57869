package org.routecal.kernel;

import io.github.spencerpark.jupyter.channels.JupyterConnection;
import io.github.spencerpark.jupyter.channels.JupyterSocket;
import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.KernelConnectionProperties;
import io.github.spencerpark.jupyter.kernel.LanguageInfo;
import io.github.spencerpark.jupyter.kernel.ReplacementOptions;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;

/**
 * The routecal Jupyter kernel: Java cells through JShell plus the routecal magics and rich displays, on
 * jupyter-jvm-basekernel (IJava's base library). Started by the kernelspec that {@code routecal kernel install} writes:
 * {@code java … org.routecal.kernel.RoutecalKernel {connection_file}}.
 */
public final class RoutecalKernel extends BaseKernel {
    /** basekernel logs every socket loop's start and stop at INFO, under top-level names ("Loop-shell"): quiet the
     *  root logger. Held here so the level setting is not lost to GC. */
    private static final java.util.logging.Logger ROOT_LOG = java.util.logging.Logger.getLogger("");
    private final Session session;
    private int cellCount;

    public RoutecalKernel() {
        session = new Session(new OutputSink() {
            @Override public void display(DisplayData data) { getIO().display.display(data); }
            @Override public void updateDisplay(String id, DisplayData data) { getIO().display.updateDisplay(id, data); }
        });
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: RoutecalKernel CONNECTION_FILE (started by Jupyter from the kernelspec)");
            System.exit(2);
        }
        JupyterSocket.JUPYTER_LOGGER.setLevel(Level.WARNING);
        ROOT_LOG.setLevel(Level.WARNING);
        JupyterConnection conn = new JupyterConnection(KernelConnectionProperties.parse(Files.readString(Path.of(args[0]))));
        RoutecalKernel kernel = new RoutecalKernel();
        kernel.becomeHandlerForConnection(conn);
        conn.connect();
        conn.waitUntilClose();
        System.exit(0);
    }

    @Override
    public DisplayData eval(String code) throws Exception {
        cellCount++;
        return session.eval(code, "cell [" + cellCount + "]");
    }

    @Override
    public LanguageInfo getLanguageInfo() {
        return new LanguageInfo.Builder("java")
                .version(Runtime.version().toString())
                .mimetype("text/x-java-source")
                .fileExtension(".jshell")
                .pygments("java")
                .codemirror("text/x-java")
                .build();
    }

    @Override
    public String getBanner() {
        return "routecal kernel (Java " + Runtime.version() + ", JShell): Java cells, %magics, Tablesaw and Plotly displays";
    }

    @Override
    public String isComplete(String code) {
        String r = session.isComplete(code);
        return switch (r) {
            case "complete" -> IS_COMPLETE_YES;
            case "invalid" -> IS_COMPLETE_BAD;
            default -> "    "; // basekernel: any other string means incomplete, with this indent
        };
    }

    @Override
    public ReplacementOptions complete(String code, int at) {
        JavaEvaluator.Completions c = session.complete(code, at);
        return c.matches().isEmpty() ? null : new ReplacementOptions(c.matches(), c.start(), c.end());
    }

    @Override
    public void interrupt() {
        session.interrupt();
    }

    @Override
    public void onShutdown(boolean restart) {
        session.close();
    }

    @Override
    public List<String> formatError(Exception e) {
        if (e instanceof CellException ce) return new ArrayList<>(ce.traceback());
        return super.formatError(e);
    }
}
