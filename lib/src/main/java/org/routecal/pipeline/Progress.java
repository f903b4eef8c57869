package org.routecal.pipeline;

/**
 * Progress of a long stage. The CLI renders it as a terminal bar on stderr; the notebook kernel as a
 * bar that updates in place. Implementations must be cheap to call per item and thread-safe.
 */
public interface Progress {
    /** Starts a task with a known total (use -1 when unknown). Replaces the previous task. */
    void start(String task, long total);

    /** Advances the current task by {@code n} units. */
    void advance(long n);

    /** A one-line status message (e.g. "layer 3/48: 128 experts solved"). */
    default void message(String text) {}

    /** Marks the current task finished. */
    void finish();

    Progress NONE = new Progress() {
        @Override public void start(String task, long total) {}
        @Override public void advance(long n) {}
        @Override public void finish() {}
    };
}
