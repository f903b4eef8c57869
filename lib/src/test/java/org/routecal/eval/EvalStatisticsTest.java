package org.routecal.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.eval.EvalStatistics.SampleRow;

/** Evaluation statistics on a four-sample case worked out by hand. */
class EvalStatisticsTest {
    // domain A: s1 10 tokens, NLL 2.0 → 2.5 (Δ 0.5); s2 30 tokens, 1.0 → 1.1 (Δ 0.1)
    //   token-weighted NLL (10·2 + 30·1)/40 = 1.25, per-sample mean (2 + 1)/2 = 1.5, ΔNLL (10·0.5 + 30·0.1)/40 = 0.2
    // domain B: s3 20 tokens, 3.0 → 3.3 (Δ 0.3); s4 20 tokens, 1.0 → 1.5 (Δ 0.5)
    //   token-weighted NLL 2.0, per-sample mean 2.0, ΔNLL 0.4
    // mean ΔNLL (0.2 + 0.4)/2 = 0.3, worst 0.4 (B); q2 = q1 − 0.05 on every sample
    static List<SampleRow> rows() {
        List<SampleRow> r = new ArrayList<>();
        String[] ids = {"s1", "s2", "s3", "s4"}, dom = {"A", "A", "B", "B"};
        int[] tok = {10, 30, 20, 20};
        double[] orig = {2.0, 1.0, 3.0, 1.0}, q1 = {2.5, 1.1, 3.3, 1.5}, kl = {0.04, 0.02, 0.01, 0.03};
        for (int i = 0; i < 4; i++) r.add(new SampleRow("original", ids[i], dom[i], tok[i], orig[i], null));
        for (int i = 0; i < 4; i++) r.add(new SampleRow("q1", ids[i], dom[i], tok[i], q1[i], kl[i]));
        for (int i = 0; i < 4; i++) r.add(new SampleRow("q2", ids[i], dom[i], tok[i], q1[i] - 0.05, kl[i] / 2));
        return r;
    }

    @Test
    void pointEstimatesByHand() {
        EvalStatistics.Report rep = EvalStatistics.compute(rows(), new EvalStatistics.Options(200, 0, 0.95, null));
        EvalStatistics.ModelStats orig = rep.models().get(0), q1 = rep.models().get(1);
        assertEquals("original", orig.model());
        assertNull(orig.meanDeltaNll());
        assertEquals((1.25 + 2.0) / 2, orig.meanNll().estimate(), 1e-12);
        EvalStatistics.DomainStats a = orig.domains().get(0);
        assertEquals("A", a.domain());
        assertEquals(40, a.tokens());
        assertEquals(1.25, a.nllTokenWeighted(), 1e-12);
        assertEquals(1.5, a.nllPerSampleMean(), 1e-12);
        assertEquals(0.3, q1.meanDeltaNll().estimate(), 1e-12);
        assertEquals(0.4, q1.worstDeltaNll().estimate(), 1e-12);
        assertEquals("B", q1.worstDeltaNllDomain());
        assertEquals(0.2, q1.domains().get(0).deltaNll().estimate(), 1e-12);
        // KL A: (10·0.04 + 30·0.02)/40 = 0.025; B: (0.01 + 0.03)/2 = 0.02 → mean 0.0225, worst 0.025 (A)
        assertEquals(0.0225, q1.meanKl().estimate(), 1e-12);
        assertEquals(0.025, q1.worstKl().estimate(), 1e-12);
        assertEquals("A", q1.worstKlDomain());
        // the interval brackets the estimate; within A the resampled ΔNLL stays between its samples' 0.1 and 0.5
        EvalStatistics.DomainStats qa = q1.domains().get(0);
        assertTrue(qa.deltaNll().lower() >= 0.1 - 1e-12 && qa.deltaNll().upper() <= 0.5 + 1e-12);
        assertTrue(qa.deltaNll().lower() < 0.2 && qa.deltaNll().upper() > 0.2);
    }

    @Test
    void comparisonIsPaired() {
        EvalStatistics.Report rep = EvalStatistics.compute(rows(), new EvalStatistics.Options(300, 1, 0.95, "q1"));
        assertEquals(1, rep.comparisons().size());
        EvalStatistics.Comparison c = rep.comparisons().get(0);
        assertEquals("q2", c.model());
        assertEquals("q1", c.baseline());
        // q2 is q1 − 0.05 on every sample, so every resample's difference is exactly −0.05: a degenerate interval
        assertEquals(-0.05, c.meanDeltaNll().estimate(), 1e-12);
        assertEquals(-0.05, c.meanDeltaNll().lower(), 1e-12);
        assertEquals(-0.05, c.meanDeltaNll().upper(), 1e-12);
        assertEquals(-0.05, c.worstDeltaNll().upper(), 1e-12);
        assertTrue(c.meanDeltaNll().excludesZero());
        assertEquals(-0.0225 / 2, c.meanKl().estimate(), 1e-12);
        // while each model's own interval is wide (two samples per domain)
        EvalStatistics.ModelStats q1 = rep.models().get(1);
        assertTrue(q1.meanDeltaNll().upper() - q1.meanDeltaNll().lower() > 0.1);
    }

    @Test
    void badRowsAreRefusedByName() {
        List<SampleRow> missing = new ArrayList<>(rows());
        missing.removeIf(r -> r.model().equals("q2") && r.sampleId().equals("s3"));
        RoutecalException e = assertThrows(RoutecalException.class, () -> EvalStatistics.compute(missing, EvalStatistics.Options.defaults()));
        assertTrue(e.getMessage().contains("q2") && e.getMessage().contains("s3"), e.getMessage());
        RoutecalException b = assertThrows(RoutecalException.class,
                () -> EvalStatistics.compute(rows(), new EvalStatistics.Options(10, 0, 0.95, "nope")));
        assertTrue(b.getMessage().contains("nope"), b.getMessage());
        assertThrows(RoutecalException.class, () -> EvalStatistics.compute(rows().subList(4, 12), EvalStatistics.Options.defaults()));
    }
}
