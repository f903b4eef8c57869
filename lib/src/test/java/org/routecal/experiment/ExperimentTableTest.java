package org.routecal.experiment;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.routecal.eval.EvalStatistics;
import org.routecal.eval.EvalStatistics.SampleRow;

/** The experiment's aggregation on rows worked out by hand. */
class ExperimentTableTest {
    // two domains × two samples; original NLL 1.0 everywhere, tokens 10, 30 | 20, 20
    // set "a", seeds 0 and 1: ΔNLL per sample (0.2, 0.2, 0.4, 0.4) and (0.4, 0.4, 0.2, 0.2) → seed means 0.3 and 0.3;
    //   seed-averaged per sample: 0.3 everywhere → mean 0.3, worst 0.3
    // set "base" (one seed): ΔNLL 0.5 everywhere → mean 0.5; a − base = −0.2 on every sample and resample
    static List<SampleRow> rows() {
        String[] ids = {"x1", "x2", "y1", "y2"}, dom = {"X", "X", "Y", "Y"};
        int[] tok = {10, 30, 20, 20};
        double[] a0 = {0.2, 0.2, 0.4, 0.4}, a1 = {0.4, 0.4, 0.2, 0.2};
        List<SampleRow> r = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            r.add(new SampleRow("original", ids[i], dom[i], tok[i], 1.0, null));
            r.add(new SampleRow("a-s0-m-w", ids[i], dom[i], tok[i], 1.0 + a0[i], 0.01));
            r.add(new SampleRow("a-s1-m-w", ids[i], dom[i], tok[i], 1.0 + a1[i], 0.03));
            r.add(new SampleRow("base-s0-m-w", ids[i], dom[i], tok[i], 1.5, 0.05));
            r.add(new SampleRow("original-m-w", ids[i], dom[i], tok[i], 1.7, 0.07));
        }
        return r;
    }

    @Test
    void seedsAveragePerSampleAndCompareWithTheBaselinePaired() {
        List<ExperimentTable.Run> runs = List.of(new ExperimentTable.Run("original", null, "m", "w", "original-m-w"),
                new ExperimentTable.Run("base", 0L, "m", "w", "base-s0-m-w"),
                new ExperimentTable.Run("a", 0L, "m", "w", "a-s0-m-w"), new ExperimentTable.Run("a", 1L, "m", "w", "a-s1-m-w"));
        ExperimentTable.Coverage cov = new ExperimentTable.Coverage(100, 3, 0.9, 0.4);
        Map<String, ExperimentTable.Coverage> coverage = Map.of("original/-", cov, "base/0", cov, "a/0", cov,
                "a/1", new ExperimentTable.Coverage(120, 5, 0.8, 0.2));
        ExperimentTable t = ExperimentTable.build(runs, rows(), coverage, new EvalStatistics.Options(200, 0, 0.95, null), "base");
        assertEquals(3, t.rows().size());
        ExperimentTable.Row original = t.rows().get(0), base = t.rows().get(1), a = t.rows().get(2);
        assertEquals("original", original.set(), "a set may be called original without clashing with the reference model");
        assertEquals(0.7, original.stats().meanDeltaNll().estimate(), 1e-12);
        assertEquals(2, a.seeds());
        assertEquals(List.of(0.3, 0.3), a.seedMeanDeltaNll().stream().map(v -> Math.round(v * 1e12) / 1e12).toList());
        assertEquals(0.3, a.stats().meanDeltaNll().estimate(), 1e-12);
        assertEquals(0.3, a.stats().meanDeltaNll().lower(), 1e-12, "seed-averaged ΔNLL is 0.3 on every sample");
        assertEquals(0.02, a.stats().meanKl().estimate(), 1e-12);
        assertEquals(110, a.tokens(), 1e-12, "coverage averaged over seeds");
        assertNull(base.vsBaseline());
        assertEquals(-0.2, a.vsBaseline().meanDeltaNll().estimate(), 1e-12);
        assertEquals(-0.2, a.vsBaseline().meanDeltaNll().upper(), 1e-12);
        assertEquals("better", ExperimentTable.verdict(a.vsBaseline().meanDeltaNll()));
        assertEquals("worse", ExperimentTable.verdict(original.vsBaseline().meanDeltaNll()));
        assertEquals(List.of("a", "base", "original"), List.copyOf(t.ranking().keySet()));
        assertTrue(t.toMarkdown().contains("| m | w | a |"));
        String vsBase = t.toTable().stringColumn("mean ΔNLL − base").get(2);
        assertTrue(vsBase.contains("−0.2000") || vsBase.contains("-0.2000"), vsBase);
    }

    /** experiment.json's table read back (ExperimentResults) holds every interval the table wrote. */
    @Test
    void tableRoundTripsThroughItsJson() {
        List<ExperimentTable.Run> runs = List.of(new ExperimentTable.Run("base", 0L, "m", "w", "base-s0-m-w"),
                new ExperimentTable.Run("a", 0L, "m", "w", "a-s0-m-w"), new ExperimentTable.Run("a", 1L, "m", "w", "a-s1-m-w"));
        ExperimentTable.Coverage cov = new ExperimentTable.Coverage(100, 3, 0.9, 0.4);
        ExperimentTable t = ExperimentTable.build(runs, rows(), Map.of("base/0", cov, "a/0", cov, "a/1", cov),
                new EvalStatistics.Options(200, 0, 0.95, null), "base");
        ExperimentResults back = ExperimentResults.fromTable("m", t.toJson(org.routecal.io.Json.MAPPER));
        assertEquals("base", back.baseline());
        assertEquals(200, back.resamples());
        assertEquals(t.rows().size(), back.cells().size());
        for (int i = 0; i < t.rows().size(); i++) {
            ExperimentTable.Row r = t.rows().get(i);
            ExperimentResults.Cell c = back.cells().get(i);
            assertEquals(r.set(), c.set());
            assertEquals(r.seeds(), c.seeds());
            assertEquals(r.stats().meanDeltaNll(), c.meanDeltaNll());
            assertEquals(r.stats().worstDeltaNll(), c.worstDeltaNll());
            assertEquals(r.stats().worstDeltaNllDomain(), c.worstDomain());
            assertEquals(r.stats().meanKl(), c.meanKl());
            assertEquals(r.vsBaseline() == null ? null : r.vsBaseline().meanDeltaNll(), c.minusBaselineMeanDeltaNll());
            assertEquals(r.vsBaseline() == null ? null : r.vsBaseline().worstDeltaNll(), c.minusBaselineWorstDeltaNll());
        }
        assertTrue(back.verdict().startsWith("Of 2 paired differences against base"), back.verdict());
        assertTrue(back.verdict().contains("2 exclude zero in favour of the set"), back.verdict());
    }

    /** The build bundles the committed benchmark experiment, and it reads: the demo report shows it. */
    @Test
    void bundledBenchmarkExperimentReads() {
        ExperimentResults bench = ExperimentResults.benchmark().orElseThrow(() -> new AssertionError(
                "lib/pom.xml bundles tests/bench_model/results/experiment.json as " + ExperimentResults.BENCHMARK_RESOURCE));
        assertEquals("stratified", bench.baseline());
        assertTrue(bench.cells().size() >= 8, "W4 and W3 × modes × sets");
        assertTrue(bench.cells().stream().anyMatch(c -> c.scheme().equals("w3a16")));
    }
}
