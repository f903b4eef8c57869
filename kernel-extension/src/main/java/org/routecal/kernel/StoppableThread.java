package org.routecal.kernel;

import java.util.concurrent.Callable;

/**
 * Runs one piece of cell work (a JShell snippet or a magic's stage) on a fresh thread and waits for it, so that an
 * interrupt request can end it from the control channel: {@link #stopCurrent()} interrupts the thread and, if it is
 * still running after a short grace period (a CPU-bound loop never looks at its interrupt flag), stops it with
 * {@link Thread#stop()}. Stopping unwinds through {@code finally} blocks, which is how a stage removes its temporary
 * run directory. One cell runs at a time per kernel, so a single "current" slot suffices.
 */
final class StoppableThread {
    /** How long an interrupted thread may take to notice before it is stopped. */
    private static final long GRACE_MILLIS = 300;
    private static volatile Thread current;
    private static volatile boolean stopRequested;

    /** What the work produced: a value, a failure, or that it was stopped. */
    record Outcome(Object value, Throwable failure, boolean stopped) {}

    private StoppableThread() {}

    /** A new cell starts: forget an interrupt that arrived after the previous cell ended. */
    static void beginCell() {
        stopRequested = false;
    }

    static Outcome run(String name, Callable<Object> work) throws InterruptedException {
        Object[] value = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                value[0] = work.call();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, name);
        t.setContextClassLoader(Thread.currentThread().getContextClassLoader());
        t.setDaemon(true);
        // An interrupt that came while the cell was between pieces (parsing a magic, compiling) still counts.
        if (stopRequested) return new Outcome(null, null, true);
        current = t;
        try {
            t.start();
            t.join();
        } finally {
            current = null;
        }
        boolean stopped = stopRequested || isThreadDeath(failure[0]);
        return new Outcome(value[0], stopped ? null : failure[0], stopped);
    }

    @SuppressWarnings({"deprecation", "removal"})
    static void stopCurrent() {
        stopRequested = true;
        Thread t = current;
        if (t == null) return;
        t.interrupt();
        Thread killer = new Thread(() -> {
            try {
                t.join(GRACE_MILLIS);
                if (t.isAlive() && t == current) t.stop();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            } catch (UnsupportedOperationException e) {
                // Java 20+ removed Thread.stop: only the interrupt remains.
                System.err.println("routecal: this JVM cannot stop a running cell; only interrupted it");
            }
        }, "routecal-stopper");
        killer.setDaemon(true);
        killer.start();
    }

    private static boolean isThreadDeath(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ThreadDeath) return true;
        }
        return false;
    }
}
