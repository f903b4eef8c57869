package org.routecal.kernel;

import io.github.spencerpark.jupyter.channels.JupyterConnection;
import io.github.spencerpark.jupyter.channels.JupyterSocket;
import io.github.spencerpark.jupyter.channels.Loop;
import io.github.spencerpark.jupyter.channels.ShellChannel;
import io.github.spencerpark.jupyter.channels.ShellReplyEnvironment;
import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.JupyterIOAccess;
import io.github.spencerpark.jupyter.kernel.KernelConnectionProperties;
import io.github.spencerpark.jupyter.kernel.LanguageInfo;
import io.github.spencerpark.jupyter.kernel.ReplacementOptions;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.messages.Message;
import io.github.spencerpark.jupyter.messages.MessageType;
import io.github.spencerpark.jupyter.messages.publish.PublishError;
import io.github.spencerpark.jupyter.messages.publish.PublishExecuteInput;
import io.github.spencerpark.jupyter.messages.publish.PublishExecuteResult;
import io.github.spencerpark.jupyter.messages.reply.ErrorReply;
import io.github.spencerpark.jupyter.messages.reply.ExecuteReply;
import io.github.spencerpark.jupyter.messages.request.ExecuteRequest;
import org.zeromq.ZMQ;

import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Level;

/**
 * The routecal Jupyter kernel: Java cells through JShell plus the routecal magics and rich displays, on
 * jupyter-jvm-basekernel (IJava's base library). Started by the kernelspec that {@code routecal kernel install} writes:
 * {@code java … org.routecal.kernel.RoutecalKernel {connection_file}}.
 * <p>
 * Beyond basekernel: its own execute handler (the user's exception type as {@code ename}; after a failing cell with
 * {@code stop_on_error}, the requests already queued — a browser's Run All — are aborted, as ipykernel does; the
 * requesting front end is told to the renderer), and socket loops that log and drop a message with a bad signature
 * or malformed frames instead of dying with it.
 */
public final class RoutecalKernel extends BaseKernel {
    /** basekernel logs every socket loop's start and stop at INFO, under top-level names ("Loop-shell"): quiet the
     *  root logger. Held here so the level setting is not lost to GC. */
    private static final java.util.logging.Logger ROOT_LOG = java.util.logging.Logger.getLogger("");
    /** Queued requests count as part of a failed Run All while handled within this long of the previous one. */
    private static final long ABORT_WINDOW_NANOS = 2_000_000_000L;
    private final Session session;
    private boolean aborting;
    private long lastAbortDecision;

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
        Connection conn = new Connection(KernelConnectionProperties.parse(Files.readString(Path.of(args[0]))));
        RoutecalKernel kernel = new RoutecalKernel();
        kernel.becomeHandlerForConnection(conn);
        conn.setHandler(MessageType.EXECUTE_REQUEST, kernel::handleExecute);
        conn.connect();
        conn.surviveBadMessages();
        conn.waitUntilClose();
        System.exit(0);
    }

    /** basekernel's connection, with access to its shell and control channels. */
    static final class Connection extends JupyterConnection {
        Connection(KernelConnectionProperties props) throws Exception {
            super(props);
        }

        /**
         * A message whose signature does not match (forged, or signed with another key) or whose frames do not parse
         * makes basekernel's reader throw inside the channel's loop thread, which then ends: every later request
         * hangs. The loops get an error handler that logs the message and goes on polling. The loop is a private
         * field of basekernel 2.3's ShellChannel (a final release), read once here; a missing field fails loudly.
         */
        void surviveBadMessages() throws ReflectiveOperationException {
            Field loopField = ShellChannel.class.getDeclaredField("ioloop");
            loopField.setAccessible(true);
            for (ShellChannel channel : List.of(shell, control)) {
                Loop loop = (Loop) loopField.get(channel);
                loop.onError(t -> {
                    if (t instanceof org.zeromq.ZMQException || t instanceof java.nio.channels.ClosedSelectorException) {
                        return -1; // the socket is closed: the kernel is shutting down
                    }
                    System.err.println("routecal kernel: dropped a message on the " + (channel == shell ? "shell" : "control")
                            + " channel: " + t.getClass().getSimpleName() + ": " + t.getMessage());
                    return 50;
                });
            }
        }
    }

    private synchronized void handleExecute(ShellReplyEnvironment env, Message<ExecuteRequest> message) {
        ExecuteRequest request = message.getContent();
        env.setBusyDeferIdle();
        if (aborting && System.nanoTime() - lastAbortDecision < ABORT_WINDOW_NANOS) {
            // Part of a run that already failed (Run All queued it before the failure): not run, as ipykernel does.
            env.replyError(ExecuteReply.MESSAGE_TYPE.error(), new ErrorReply("ExecutionAborted",
                    "not run: an earlier cell of the same run failed", List.of()));
            decideAborting(env);
            return;
        }
        aborting = false;
        commManager.setMessageContext(message);
        int count = executionCount.getAndIncrement();
        env.publish(new PublishExecuteInput(request.getCode(), count));
        PrintStream oldOut = System.out, oldErr = System.err;
        InputStream oldIn = System.in;
        System.setOut(getIO().out);
        System.setErr(getIO().err);
        System.setIn(getIO().in);
        env.defer(() -> {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.setIn(oldIn);
        });
        JupyterIOAccess.attach(getIO(), env, request.isStdinEnabled());
        env.defer(() -> JupyterIOAccess.detach(getIO(), env));
        session.forClient(message.getHeader().getSessionId());
        try {
            DisplayData out = session.eval(request.getCode(), "cell [" + count + "]");
            if (out != null) env.publish(new PublishExecuteResult(count, out));
            env.defer().reply(new ExecuteReply(count, Collections.emptyMap()));
        } catch (Exception e) {
            String ename = e instanceof CellException ce ? ce.ename() : e.getClass().getSimpleName();
            String message1 = e.getMessage() == null ? "" : e.getMessage();
            String evalue = message1.startsWith(ename + ": ") ? message1.substring(ename.length() + 2) : message1;
            List<String> traceback = formatError(e);
            ErrorReply error = new ErrorReply(ename, evalue, traceback);
            error.setExecutionCount(count);
            env.publish(new PublishError(ename, evalue, traceback));
            env.defer().replyError(ExecuteReply.MESSAGE_TYPE.error(), error);
            if (request.shouldStopOnError()) decideAborting(env);
        }
    }

    /** Abort what is already waiting on the shell socket (a browser's Run All sends every cell at once). */
    private void decideAborting(ShellReplyEnvironment env) {
        aborting = (env.getShell().getEvents() & ZMQ.Poller.POLLIN) != 0;
        lastAbortDecision = System.nanoTime();
    }

    @Override
    public DisplayData eval(String code) throws Exception {
        // Only used by basekernel paths other than execute (none in 2.3); the execute handler calls the session.
        return session.eval(code, "cell");
    }

    @Override
    public DisplayData inspect(String code, int at, boolean extraDetail) {
        return session.inspect(code, at);
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
        return "routecal kernel (Java " + Runtime.version() + ", JShell): Java cells, %magics (%lsmagic), tables and charts";
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
