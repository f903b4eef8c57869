package io.github.spencerpark.jupyter.kernel;

import io.github.spencerpark.jupyter.channels.ShellReplyEnvironment;

/**
 * routecal's execute handler (org.routecal.kernel.RoutecalKernel) replaces basekernel's private one, to report the
 * user's exception type as {@code ename}, to abort queued cells after a failure and to know which front end asked.
 * Wiring the kernel's streams to a request is package-private in basekernel 2.3 (its own handler does it), hence this
 * one class in basekernel's package; basekernel is shaded into the same jar, so the package is the same at run time.
 */
public final class JupyterIOAccess {
    private JupyterIOAccess() {}

    public static void attach(JupyterIO io, ShellReplyEnvironment env, boolean stdinEnabled) {
        io.setEnv(env);
        io.setJupyterInEnabled(stdinEnabled);
    }

    public static void detach(JupyterIO io, ShellReplyEnvironment env) {
        io.retractEnv(env);
    }
}
