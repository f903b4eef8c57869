package org.routecal.quant.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The experts' owners: LPT's balance bound against the exhaustive optimum, determinism, and bad input. */
class BalancedAssignmentTest {
    /** The smallest possible largest load, by trying every assignment (small instances only). */
    static double optimum(double[] costs, int bins) {
        int[] owner = new int[costs.length];
        double best = Double.POSITIVE_INFINITY;
        long combos = (long) Math.pow(bins, costs.length);
        for (long c = 0; c < combos; c++) {
            long x = c;
            for (int i = 0; i < costs.length; i++) {
                owner[i] = (int) (x % bins);
                x /= bins;
            }
            best = Math.min(best, max(BalancedAssignment.loads(costs, owner, bins)));
        }
        return best;
    }

    static double max(double[] a) { return Arrays.stream(a).max().orElse(0); }

    @Test
    void largestLoadWithinGrahamsBoundOfTheOptimum() {
        Random r = new Random(7);
        int worstSeen = 0;
        for (int trial = 0; trial < 300; trial++) {
            int bins = 2 + r.nextInt(3), items = 1 + r.nextInt(9);
            double[] costs = new double[items];
            for (int i = 0; i < items; i++) costs[i] = 1 + r.nextInt(20) * (r.nextBoolean() ? 1 : 7);
            int[] owner = BalancedAssignment.assign(costs, bins);
            double lpt = max(BalancedAssignment.loads(costs, owner, bins)), opt = optimum(costs, bins);
            double bound = (4.0 / 3 - 1.0 / (3 * bins)) * opt;
            assertTrue(lpt <= bound + 1e-9, "LPT " + lpt + " > (4/3 − 1/3m)·OPT = " + bound + " for " + Arrays.toString(costs) + " on " + bins);
            double mean = Arrays.stream(costs).sum() / bins, largest = max(costs);
            assertTrue(lpt <= mean + (1 - 1.0 / bins) * largest + 1e-9, "list-scheduling bound");
            if (lpt > opt) worstSeen++;
        }
        assertTrue(worstSeen > 0, "the instances include some where LPT is not optimal (the bound is what is tested)");
    }

    @Test
    void everyItemOwnedOnceAndTheSameCostsGiveTheSameOwners() {
        double[] costs = new double[256];
        Random r = new Random(3);
        for (int i = 0; i < costs.length; i++) costs[i] = r.nextInt(4) == 0 ? 1 : 1000; // some experts fall back to RTN
        int[] a = BalancedAssignment.assign(costs, 8), b = BalancedAssignment.assign(costs.clone(), 8);
        assertArrayEquals(a, b);
        for (int o : a) assertTrue(o >= 0 && o < 8);
        double[] loads = BalancedAssignment.loads(costs, a, 8);
        assertEquals(Arrays.stream(costs).sum(), Arrays.stream(loads).sum(), 1e-9);
        assertTrue(max(loads) - Arrays.stream(loads).min().orElse(0) <= 1000, "loads differ by at most one item: " + Arrays.toString(loads));
    }

    @Test
    void equalCostsGoRoundRobinAndTiesPreferLowerIndices() {
        int[] owner = BalancedAssignment.assign(new double[]{5, 5, 5, 5, 5, 5, 5}, 3);
        assertArrayEquals(new int[]{0, 1, 2, 0, 1, 2, 0}, owner);
        // the largest item first, whatever its index
        assertArrayEquals(new int[]{1, 1, 0}, BalancedAssignment.assign(new double[]{1, 2, 4}, 2));
        assertArrayEquals(new int[0], BalancedAssignment.assign(new double[0], 4));
    }

    @Test
    void badInputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> BalancedAssignment.assign(new double[]{1}, 0));
        assertThrows(IllegalArgumentException.class, () -> BalancedAssignment.assign(new double[]{-1}, 2));
        assertThrows(IllegalArgumentException.class, () -> BalancedAssignment.assign(new double[]{Double.NaN}, 2));
    }
}
