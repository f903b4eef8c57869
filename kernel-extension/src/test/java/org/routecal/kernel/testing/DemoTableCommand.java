package org.routecal.kernel.testing;

import org.routecal.RoutecalException;
import org.routecal.session.StageCommand;
import org.routecal.pipeline.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;
import org.routecal.report.Chart;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A real picocli stage command, registered only on the test class path, that exercises what stage magics rely on:
 * options and defaults, progress, a {@link DemoResult} with a table and a figure, an atomic output file, and a
 * CPU-bound loop that ignores interrupts (to test stopping). {@code --fail} raises a user error.
 */
@Command(name = "demo-table", mixinStandardHelpOptions = true, description = "Test stage: a table of squares.")
public final class DemoTableCommand implements StageCommand {
    @Option(names = "--rows", defaultValue = "5", description = "Rows to make.")
    int rows;

    @Option(names = "--title", defaultValue = "Squares", description = "Table and chart title.")
    String title;

    @Option(names = "--out", description = "Folder to write result.txt into (atomically).")
    Path out;

    @Option(names = "--spin-ms", defaultValue = "0", description = "Busy CPU time per row, ignoring interrupts.")
    long spinMs;

    @Option(names = "--fail", description = "Fail with a user error.")
    boolean fail;

    /** Counter the busy loop updates, so the JIT cannot drop the loop. */
    public static volatile long sink;

    @Override
    public Object execute(Progress progress) throws IOException {
        if (fail) throw new RoutecalException("demo-table: --fail was given");
        Path tmp = null;
        try {
            if (out != null) {
                Files.createDirectories(out);
                tmp = Files.createTempFile(out, ".result", ".tmp");
            }
            progress.start("squares", rows);
            int[] n = new int[rows];
            double[] sq = new double[rows];
            for (int i = 0; i < rows; i++) {
                long until = System.nanoTime() + spinMs * 1_000_000L;
                while (System.nanoTime() < until) sink++;
                n[i] = i;
                sq[i] = (double) i * i;
                progress.advance(1);
            }
            progress.finish();
            Table t = Table.create(title, IntColumn.create("n", n), DoubleColumn.create("square", sq));
            if (tmp != null) {
                Files.writeString(tmp, t.print());
                Files.move(tmp, out.resolve("result.txt"), StandardCopyOption.ATOMIC_MOVE);
                tmp = null;
            }
            return new DemoResult(t, Chart.bars(title, t, "n", "square"));
        } finally {
            if (tmp != null) Files.deleteIfExists(tmp);
        }
    }
}
