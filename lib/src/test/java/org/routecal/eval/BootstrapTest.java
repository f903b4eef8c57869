package org.routecal.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.routecal.eval.Bootstrap.Interval;

/** The bootstrap against cases worked out by hand. */
class BootstrapTest {
    @Test
    void percentileInterpolatesLikeNumpy() {
        double[] v = {1, 2, 3, 4};
        // position q·(n−1): 0.5·3 = 1.5 → 2.5; 0.025·3 = 0.075 → 1.075; 0.975·3 = 2.925 → 3.925
        assertEquals(2.5, Bootstrap.percentile(v, 0.5), 1e-12);
        assertEquals(1.075, Bootstrap.percentile(v, 0.025), 1e-12);
        assertEquals(3.925, Bootstrap.percentile(v, 0.975), 1e-12);
        assertEquals(1, Bootstrap.percentile(v, 0), 0);
        assertEquals(4, Bootstrap.percentile(v, 1), 0);
    }

    @Test
    void exactBootstrapOfThreeValues() {
        // values {0, 1, 2}: the 27 equally likely resamples give sums 0..6 with counts 1,3,6,7,6,3,1. P(sum = 0) = 1/27
        // < 5 % ≤ P(sum ≤ 1) = 4/27, so the 90 % interval of the mean is [1/3, 5/3]; the 95 % one is [0, 2]
        double[] x = {0, 1, 2};
        Bootstrap.Statistic mean = w -> (w[0] * x[0] + w[1] * x[1] + w[2] * x[2]) / (w[0] + w[1] + w[2]);
        Interval i90 = new Bootstrap(List.of("a", "a", "a"), 4000, 1, 0.90).interval(mean);
        assertEquals(1.0, i90.estimate(), 1e-12);
        assertEquals(1.0 / 3, i90.lower(), 1e-12);
        assertEquals(5.0 / 3, i90.upper(), 1e-12);
        Interval i95 = new Bootstrap(List.of("a", "a", "a"), 4000, 1, 0.95).interval(mean);
        assertEquals(0, i95.lower(), 1e-12);
        assertEquals(2, i95.upper(), 1e-12);
        assertFalse(i95.excludesZero());
    }

    @Test
    void resamplesKeepEveryStratumsSize() {
        List<String> strata = List.of("a", "b", "a", "c", "b", "a");
        Bootstrap b = new Bootstrap(strata, 500, 3, 0.95);
        for (String s : List.of("a", "b", "c")) {
            long size = strata.stream().filter(s::equals).count();
            Interval count = b.interval(w -> {
                double n = 0;
                for (int i = 0; i < w.length; i++) if (strata.get(i).equals(s)) n += w[i];
                return n;
            });
            assertEquals(size, count.lower(), 0);
            assertEquals(size, count.upper(), 0);
        }
        // a stratum of one sample always draws that sample: its value never varies
        Interval c = b.interval(w -> w[3]);
        assertEquals(1, c.lower(), 0);
        assertEquals(1, c.upper(), 0);
    }

    @Test
    void pairedDifferenceRemovesSharedNoise() {
        Random r = new Random(9);
        int n = 40;
        double[] a = new double[n], b = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextGaussian();
            b[i] = a[i] + 0.1; // b is a shifted by exactly 0.1 on every sample
        }
        Bootstrap boot = new Bootstrap(Collections.nCopies(n, "d"), 1000, 0, 0.95);
        Bootstrap.Statistic ma = w -> weightedMean(a, w), mb = w -> weightedMean(b, w);
        Interval ia = boot.interval(ma), ib = boot.interval(mb);
        assertTrue(ia.upper() - ia.lower() > 0.3, "separate intervals are wide: " + ia);
        assertTrue(ib.lower() < ia.upper(), "and overlap, so unpaired they would not separate a and b");
        Interval d = boot.difference(mb, ma);
        assertEquals(0.1, d.estimate(), 1e-12);
        assertEquals(0.1, d.lower(), 1e-12);
        assertEquals(0.1, d.upper(), 1e-12);
        assertTrue(d.excludesZero());
    }

    @Test
    void seededAndReproducible() {
        List<String> strata = new ArrayList<>(Collections.nCopies(30, "x"));
        double[] v = new Random(2).doubles(30).toArray();
        Interval one = new Bootstrap(strata, 300, 42, 0.95).interval(w -> weightedMean(v, w));
        Interval two = new Bootstrap(strata, 300, 42, 0.95).interval(w -> weightedMean(v, w));
        Interval other = new Bootstrap(strata, 300, 43, 0.95).interval(w -> weightedMean(v, w));
        assertEquals(one, two);
        assertNotEquals(one.lower(), other.lower());
        assertTrue(one.lower() < one.estimate() && one.estimate() < one.upper());
    }

    @Test
    void refusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new Bootstrap(List.of("a"), 0, 0, 0.95));
        assertThrows(IllegalArgumentException.class, () -> new Bootstrap(List.of("a"), 10, 0, 1.0));
    }

    static double weightedMean(double[] x, double[] w) {
        double s = 0, n = 0;
        for (int i = 0; i < x.length; i++) {
            s += w[i] * x[i];
            n += w[i];
        }
        return s / n;
    }
}
