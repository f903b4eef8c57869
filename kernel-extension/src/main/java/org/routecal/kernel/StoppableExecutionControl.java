package org.routecal.kernel;

import jdk.jshell.execution.DirectExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * JShell's in-process execution, with two changes to {@link DirectExecutionControl}: every snippet runs on its own
 * thread so that {@link #stop()} can end it (a CPU-bound {@code while(true){}} included), and the live value of the
 * last snippet is kept so the kernel can render the object itself rather than JShell's string of it.
 * <p>
 * Stopping uses {@link StoppableThread}: an interrupt first, then {@code Thread.stop()}, which Java 17 still permits
 * (JShell's own local engine does the same through its thread group).
 */
final class StoppableExecutionControl extends DirectExecutionControl {
    private volatile Object lastValue;
    private volatile boolean stopped;

    /** Whether the last snippet was stopped by an interrupt request. */
    boolean wasStopped() {
        return stopped;
    }

    void clearStopped() {
        stopped = false;
    }

    /** The value the last snippet's wrapper method returned (the expression's value), or null. */
    Object takeLastValue() {
        Object v = lastValue;
        lastValue = null;
        return v;
    }

    @Override
    protected String invoke(Method doitMethod) throws Exception {
        lastValue = null;
        stopped = false;
        StoppableThread.Outcome outcome = StoppableThread.run("routecal-cell", () -> doitMethod.invoke(null));
        if (outcome.stopped()) {
            stopped = true;
            throw new ExecutionControl.StoppedException();
        }
        if (outcome.failure() != null) {
            Throwable f = outcome.failure();
            // DirectExecutionControl turns an InvocationTargetException's cause into JShell's EvalException.
            if (f instanceof InvocationTargetException ite) throw ite;
            throw new InvocationTargetException(f);
        }
        lastValue = outcome.value();
        return valueString(outcome.value());
    }

    @Override
    public void stop() {
        StoppableThread.stopCurrent();
    }

    /** Hands this control to {@code JShell.builder().executionEngine(provider, Map.of())}. */
    static ExecutionControlProvider providerFor(StoppableExecutionControl control) {
        return new ExecutionControlProvider() {
            @Override public String name() { return "routecal-local"; }
            @Override public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) { return control; }
        };
    }
}
