package org.routecal.synth.refine;

import org.routecal.report.Chart;
import org.routecal.report.HtmlReport;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code refine_report.html}: the loop's trajectory, total deficit and the smallest per-layer normalised entropy per
 * round (round 0 = the original corpus), as two charts through the report package (interactive, with static images,
 * opens offline).
 */
final class RefineChart {
    static final String REPORT = "refine_report.html";

    private RefineChart() {}

    static void write(Path outDir, List<Long> deficits, List<Double> entropies, long target) {
        HtmlReport.titled("routecal refine: trajectory")
                .chart(deficitChart(deficits, target))
                .chart(entropyChart(entropies))
                .write(outDir.resolve(REPORT));
    }

    static Chart deficitChart(List<Long> deficits, long target) {
        return Chart.titled("Total deficit (target " + target + " tokens per slot)").axes("round", "deficit (tokens)")
                .size(640, 320).lines("deficit", rounds(deficits.size()), deficits.stream().mapToDouble(Long::doubleValue).toArray(),
                        "#c0392b", false);
    }

    static Chart entropyChart(List<Double> entropies) {
        return Chart.titled("Smallest per-layer normalised entropy").axes("round", "entropy (0–1)").size(640, 320)
                .lines("min entropy", rounds(entropies.size()), entropies.stream().mapToDouble(Double::doubleValue).toArray(),
                        "#2471a3", false);
    }

    private static double[] rounds(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = i;
        return x;
    }
}
