package org.routecal.cli;

import org.routecal.pipeline.Progress;

import java.io.PrintStream;

/** A progress bar on a terminal: redraws one line with '\r' at most ~10 times a second. */
final class TerminalProgress implements Progress {
    private final PrintStream out;
    private final boolean interactive;
    private String task = "";
    private long total = -1, done;
    private long lastDraw;
    private final long startNanos = System.nanoTime();

    private TerminalProgress(PrintStream out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
    }

    static TerminalProgress stderr() {
        return new TerminalProgress(System.err, System.console() != null);
    }

    @Override public synchronized void start(String task, long total) {
        this.task = task;
        this.total = total;
        this.done = 0;
        this.lastDraw = 0;
        draw(true);
    }

    @Override public synchronized void advance(long n) {
        done += n;
        draw(false);
    }

    @Override public synchronized void message(String text) {
        if (interactive) out.print("\r\033[K");
        out.println("  " + text);
    }

    @Override public synchronized void finish() {
        draw(true);
        if (interactive) out.println();
    }

    private void draw(boolean force) {
        long now = System.nanoTime();
        // Non-interactive (CI logs): a line per 10 % instead of a redrawn bar.
        if (!force && now - lastDraw < (interactive ? 100_000_000L : 5_000_000_000L)) return;
        lastDraw = now;
        double secs = (now - startNanos) / 1e9;
        String line;
        if (total > 0) {
            int width = 30, filled = (int) Math.min(width, width * done / total);
            line = String.format("%s [%s%s] %d/%d %.0fs", task, "#".repeat(filled), ".".repeat(width - filled), done, total, secs);
        } else {
            line = String.format("%s %d %.0fs", task, done, secs);
        }
        if (interactive) out.print("\r\033[K" + line);
        else out.println(line);
    }
}
