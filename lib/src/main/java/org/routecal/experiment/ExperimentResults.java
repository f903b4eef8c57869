package org.routecal.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.routecal.RoutecalException;
import org.routecal.eval.Bootstrap.Interval;
import org.routecal.io.Json;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * A finished experiment read back from its {@code experiment.json} (written by {@link ExperimentStage} from
 * {@link ExperimentTable#toJson}): the table's cells with their intervals, for reports that show an experiment they did
 * not run, such as the demo's section on the trained benchmark model.
 */
public record ExperimentResults(String model, String baseline, int resamples, double confidence, List<Cell> cells) {
    /** Where the build bundles the committed benchmark result ({@code tests/bench_model/results/experiment.json}). */
    static final String BENCHMARK_RESOURCE = "bench/experiment.json";

    /** One row: a calibration set under one MoE mode and scheme; the {@code minus*} intervals are null for the baseline. */
    public record Cell(String set, String mode, String scheme, int seeds, double calibrationTokens, Interval meanDeltaNll,
                       Interval worstDeltaNll, String worstDomain, Interval meanKl, Interval minusBaselineMeanDeltaNll,
                       Interval minusBaselineWorstDeltaNll, Interval minusBaselineMeanKl) {}

    public static ExperimentResults read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** The trained benchmark model's experiment as committed, when this build bundles it. */
    public static Optional<ExperimentResults> benchmark() {
        try (InputStream in = ExperimentResults.class.getResourceAsStream(BENCHMARK_RESOURCE)) {
            return in == null ? Optional.empty() : Optional.of(read(in, "the bundled " + BENCHMARK_RESOURCE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ExperimentResults read(InputStream in, String what) throws IOException {
        JsonNode root = Json.MAPPER.readTree(in);
        if (!"routecal.experiment".equals(root.path("format").asText()) || root.path("format_version").asInt() != 1) {
            throw new RoutecalException(what + " is not a routecal experiment.json (format routecal.experiment, version 1)");
        }
        return fromTable(root.path("parameters").path("model").asText(""), root.path("table"));
    }

    /** The cells of {@link ExperimentTable#toJson}'s node. */
    static ExperimentResults fromTable(String model, JsonNode table) {
        List<Cell> cells = new ArrayList<>();
        for (JsonNode r : table.path("rows")) {
            JsonNode minus = r.path("minus_baseline");
            cells.add(new Cell(r.path("set").asText(), r.path("mode").asText(), r.path("scheme").asText(), r.path("seeds").asInt(),
                    r.path("calibration_tokens").asDouble(), interval(r, "mean_delta_nll"), interval(r, "worst_domain_delta_nll"),
                    r.path("worst_domain_delta_nll_domain").asText(), interval(r, "mean_kl"),
                    minus.isMissingNode() ? null : interval(minus, "mean_delta_nll"),
                    minus.isMissingNode() ? null : interval(minus, "worst_domain_delta_nll"),
                    minus.isMissingNode() ? null : interval(minus, "mean_kl")));
        }
        return new ExperimentResults(model, table.path("baseline").asText(), table.path("resamples").asInt(),
                table.path("confidence").asDouble(), List.copyOf(cells));
    }

    private static Interval interval(JsonNode parent, String key) {
        JsonNode n = parent.path(key);
        if (!n.isObject()) throw new RoutecalException("experiment.json: a row lacks " + key);
        return new Interval(n.path("estimate").asDouble(), n.path("lower").asDouble(), n.path("upper").asDouble());
    }

    /** Comparisons with the baseline whose mean or worst-domain ΔNLL interval excludes zero, and how many there are. */
    public String verdict() {
        int compared = 0, better = 0, worse = 0;
        for (Cell c : cells) {
            if (c.minusBaselineMeanDeltaNll() == null) continue;
            for (Interval i : List.of(c.minusBaselineMeanDeltaNll(), c.minusBaselineWorstDeltaNll())) {
                compared++;
                if (i.upper() < 0) better++;
                else if (i.lower() > 0) worse++;
            }
        }
        return String.format(Locale.ROOT, "Of %d paired differences against %s (mean and worst-domain ΔNLL of every other set, "
                + "mode and scheme), %d exclude zero in favour of the set and %d against it; the rest are ties at %.0f%% confidence.",
                compared, baseline, better, worse, 100 * confidence);
    }

    /** The cells as a table (rendered and escaped by the report package); * marks a paired interval excluding zero. */
    public Table toTable() {
        String vs = " − " + baseline;
        Table t = Table.create("Calibration sets × modes × schemes", StringColumn.create("mode"), StringColumn.create("scheme"),
                StringColumn.create("set"), IntColumn.create("seeds"), LongColumn.create("calibration tokens"), StringColumn.create("mean ΔNLL"),
                StringColumn.create("worst-domain ΔNLL"), StringColumn.create("mean KL"), StringColumn.create("mean ΔNLL" + vs),
                StringColumn.create("worst ΔNLL" + vs));
        for (Cell c : cells) {
            t.stringColumn("mode").append(c.mode());
            t.stringColumn("scheme").append(c.scheme());
            t.stringColumn("set").append(c.set());
            t.intColumn("seeds").append(c.seeds());
            t.longColumn("calibration tokens").append(Math.round(c.calibrationTokens()));
            t.stringColumn("mean ΔNLL").append(c.meanDeltaNll().format(4));
            t.stringColumn("worst-domain ΔNLL").append(c.worstDeltaNll().format(4) + " " + c.worstDomain());
            t.stringColumn("mean KL").append(c.meanKl().format(4));
            t.stringColumn("mean ΔNLL" + vs).append(starred(c.minusBaselineMeanDeltaNll()));
            t.stringColumn("worst ΔNLL" + vs).append(starred(c.minusBaselineWorstDeltaNll()));
        }
        return t;
    }

    private static String starred(Interval i) {
        return i == null ? "—" : i.format(4) + (i.excludesZero() ? " *" : "");
    }
}
