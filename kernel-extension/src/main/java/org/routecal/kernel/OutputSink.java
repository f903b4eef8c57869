package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;

/**
 * Where a cell's rich outputs go while it runs: the Jupyter connection (live kernel) or the notebook being written
 * (headless runner). Text streams are not here: both hosts capture {@code System.out} and {@code System.err}.
 */
public interface OutputSink {
    /** Publishes a new display_data output (with a display id when {@link DisplayData#hasDisplayId()}). */
    void display(DisplayData data);

    /** Replaces the earlier output published with {@code displayId}, in place. */
    void updateDisplay(String displayId, DisplayData data);
}
