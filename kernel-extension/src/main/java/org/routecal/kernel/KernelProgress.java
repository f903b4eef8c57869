package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import org.routecal.pipeline.Progress;
import org.routecal.report.Html;

import java.util.UUID;

/**
 * A stage's progress as one notebook output that updates in place (display_data with a display id, then
 * update_display_data), redrawn at most five times a second. Each {@link #start} begins a new bar.
 */
final class KernelProgress implements Progress {
    private static final long MIN_REDRAW_NANOS = 200_000_000L;
    private final OutputSink sink;
    private String displayId;
    private String task = "";
    private String note = "";
    private long total = -1, done;
    private long lastDraw;
    private final long startNanos = System.nanoTime();

    KernelProgress(OutputSink sink) {
        this.sink = sink;
    }

    @Override public synchronized void start(String task, long total) {
        this.task = task;
        this.total = total;
        this.done = 0;
        this.note = "";
        this.displayId = "rcprogress" + UUID.randomUUID().toString().replace("-", "");
        sink.display(draw(true));
        lastDraw = System.nanoTime();
    }

    @Override public synchronized void advance(long n) {
        done += n;
        redraw(false);
    }

    @Override public synchronized void message(String text) {
        note = text;
        redraw(false);
    }

    @Override public synchronized void finish() {
        if (total > 0) done = Math.max(done, total);
        redraw(true);
    }

    private void redraw(boolean force) {
        if (displayId == null) return;
        long now = System.nanoTime();
        if (!force && now - lastDraw < MIN_REDRAW_NANOS) return;
        lastDraw = now;
        sink.updateDisplay(displayId, draw(false));
    }

    private DisplayData draw(boolean first) {
        double secs = (System.nanoTime() - startNanos) / 1e9;
        String counts = total > 0 ? done + "/" + total : String.valueOf(done);
        String plain = String.format("%s %s %.1fs%s", task, counts, secs, note.isEmpty() ? "" : " — " + note);
        DisplayData d = new DisplayData(plain);
        String bar = total > 0 ? "<progress max=\"" + total + "\" value=\"" + done + "\" style=\"width:300px\"></progress>"
                : "<progress style=\"width:300px\"></progress>";
        d.putHTML("<div class=\"rc-progress\">" + Html.escape(task) + " " + bar + " " + counts
                + String.format(" %.1fs", secs) + (note.isEmpty() ? "" : " — " + Html.escape(note)) + "</div>");
        if (first) d.setDisplayId(displayId);
        return d;
    }
}
