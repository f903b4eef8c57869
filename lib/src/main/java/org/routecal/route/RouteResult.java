package org.routecal.route;

import org.routecal.report.Chart;
import org.routecal.report.DisplayPart;
import org.routecal.report.Displayable;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a route run produced: the run directory, statistics as Tablesaw tables, slot sets, token-class summary, and the
 * figures. {@link #toString()} is the CLI summary.
 */
public final class RouteResult implements Displayable {
    private final Path runDir;
    private final RoutingGeometry geometry;
    private final String fingerprint;
    private final long tokens;
    private final int samples;
    private final List<String> domains;
    private final long target;
    private final List<BalanceMetrics> perLayer;
    private final BalanceMetrics allSlots;
    private final SlotSets balance, qSensitivity;
    private final TokenScoreWriter.Summary scores;
    private final Table expertStats;
    private final Map<String, Double> timings;
    private final Boxes balanceBoxes, qBoxes;

    RouteResult(Path runDir, RoutingGeometry geometry, String fingerprint, long tokens, int samples, List<String> domains, long target,
                List<BalanceMetrics> perLayer, BalanceMetrics allSlots, SlotSets balance, SlotSets qSensitivity,
                TokenScoreWriter.Summary scores, Table expertStats, Map<String, Double> timings, Boxes balanceBoxes, Boxes qBoxes) {
        this.runDir = runDir;
        this.geometry = geometry;
        this.fingerprint = fingerprint;
        this.tokens = tokens;
        this.samples = samples;
        this.domains = domains;
        this.target = target;
        this.perLayer = perLayer;
        this.allSlots = allSlots;
        this.balance = balance;
        this.qSensitivity = qSensitivity;
        this.scores = scores;
        this.expertStats = expertStats;
        this.timings = timings;
        this.balanceBoxes = balanceBoxes;
        this.qBoxes = qBoxes;
    }

    public Path runDir() { return runDir; }

    public RoutingGeometry geometry() { return geometry; }

    public String modelFingerprint() { return fingerprint; }

    public long tokens() { return tokens; }

    public long target() { return target; }

    public List<String> domains() { return domains; }

    public List<BalanceMetrics> perLayer() { return perLayer; }

    public BalanceMetrics allSlots() { return allSlots; }

    public SlotSets balance() { return balance; }

    public SlotSets qSensitivity() { return qSensitivity; }

    TokenScoreWriter.Summary scores() { return scores; }

    Boxes boxes(Mode m) { return m == Mode.BALANCE ? balanceBoxes : qBoxes; }

    /** Per (layer, expert): counts, shares, deficits, sensitivities, set membership, per-domain counts. */
    public Table expertStats() { return expertStats; }

    /** Per-layer balance metrics. */
    public Table metricsTable() {
        Table t = Table.create("metrics", IntColumn.create("layer"), LongColumn.create("picks"), DoubleColumn.create("cv"),
                DoubleColumn.create("entropy_norm"), DoubleColumn.create("gini"), DoubleColumn.create("max_over_mean"),
                LongColumn.create("min"), LongColumn.create("max"), DoubleColumn.create("coverage"), LongColumn.create("deficit"),
                IntColumn.create("below_target"));
        for (BalanceMetrics m : perLayer) {
            t.intColumn("layer").append(m.layer());
            t.longColumn("picks").append(m.picks());
            t.doubleColumn("cv").append(m.cv());
            t.doubleColumn("entropy_norm").append(m.entropyNorm());
            t.doubleColumn("gini").append(m.gini());
            t.doubleColumn("max_over_mean").append(m.maxOverMean());
            t.longColumn("min").append(m.min());
            t.longColumn("max").append(m.max());
            t.doubleColumn("coverage").append(m.coverage());
            t.longColumn("deficit").append(m.deficit());
            t.intColumn("below_target").append(m.belowTarget());
        }
        return t;
    }

    /** token_scores.parquet as a table (read on demand: one row per token). */
    public Table tokenScores() {
        return org.routecal.io.parquet.ParquetTables.toTablesaw(runDir.resolve(RouteRunDir.TOKEN_SCORES));
    }

    /** The stage-1 charts by title. */
    public Map<String, Chart> figures() { return RouteFigures.all(this, true); }

    /**
     * Summary, per-layer metrics, the token-class legend, then each chart under its title (the kernel and report.html
     * show these). The summary leaves out the run directory: a report is shared, and its files sit beside it.
     */
    @Override public List<DisplayPart> displayParts() {
        List<DisplayPart> parts = new ArrayList<>();
        parts.add(DisplayPart.text(summary()));
        parts.add(DisplayPart.heading("Per-layer balance"));
        parts.add(DisplayPart.table(metricsTable()));
        parts.add(RouteFigures.classLegend());
        figures().forEach((title, chart) -> {
            parts.add(DisplayPart.heading(title));
            parts.add(DisplayPart.chart(chart));
        });
        return parts;
    }

    /** Seconds per phase. */
    public Map<String, Double> timings() { return timings; }

    @Override public String toString() {
        return summary() + "\noutputs in " + runDir;
    }

    private String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("routed %d tokens of %d samples (%s) through %d MoE layers × %d experts, top-%d%n", tokens, samples,
                String.join(", ", domains), geometry.layers(), geometry.experts(), geometry.topK()));
        sb.append(String.format("target %d tokens/expert: %d of %d slots below (total deficit %d); CV %.3f, entropy %.3f, min count %d%n",
                target, allSlots.belowTarget(), allSlots.experts(), allSlots.deficit(), allSlots.cv(), allSlots.entropyNorm(), allSlots.min()));
        for (Mode m : Mode.values()) {
            sb.append(String.format("%s: blue %d, red %d, both %d tokens%n", m.key(), scores.blue(m), scores.red(m), scores.both(m)));
        }
        Double cap = timings.get("capture_seconds");
        if (cap != null && cap > 0) sb.append(String.format("capture + statistics: %.1f s (%.0f tokens/s)%n", cap, tokens / cap));
        return sb.toString().stripTrailing();
    }
}
