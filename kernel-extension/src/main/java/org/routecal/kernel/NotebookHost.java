package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;

/**
 * What routecal's magics need from a Java notebook kernel that is not routecal's own (stock IJava, JJava): evaluate
 * Java in the notebook's scope, and publish displays (progress bars update in place).
 */
interface NotebookHost extends OutputSink {
    /** Evaluates Java source in the notebook's JShell and returns the live value (the kernels' {@code evalRaw}). */
    Object eval(String java) throws Exception;
}
