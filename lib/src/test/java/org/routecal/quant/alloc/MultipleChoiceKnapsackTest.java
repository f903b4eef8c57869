package org.routecal.quant.alloc;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.quant.alloc.MultipleChoiceKnapsack.Item;
import org.routecal.quant.alloc.MultipleChoiceKnapsack.Solution;

/** The knapsack against exhaustive enumeration, and on hand-made cases whose optimum is worked out by hand. */
class MultipleChoiceKnapsackTest {

    /** The optimum by trying every combination. */
    static double bruteForce(List<Item> items, long budget) {
        int n = items.size();
        int[] c = new int[n];
        double best = Double.POSITIVE_INFINITY;
        while (true) {
            long cost = 0;
            double v = 0;
            for (int i = 0; i < n; i++) {
                cost += items.get(i).cost()[c[i]];
                v += items.get(i).value()[c[i]];
            }
            if (cost <= budget) best = Math.min(best, v);
            int i = 0;
            while (i < n && ++c[i] == items.get(i).cost().length) c[i++] = 0;
            if (i == n) return best;
        }
    }

    /** Bit-allocation-like items: cost grows with the width, value (distortion) falls roughly 4× per bit, with noise. */
    static List<Item> randomItems(Random rnd, int n, int options, boolean convex) {
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long[] cost = new long[options];
            double[] value = new double[options];
            long base = 10 + rnd.nextInt(20), step = 5 + rnd.nextInt(10);
            double d = Math.exp(rnd.nextGaussian() * 2);
            for (int j = 0; j < options; j++) {
                cost[j] = base + j * step + (convex ? 0 : rnd.nextInt(7));
                value[j] = d * Math.pow(4, -j) * (convex ? 1 : Math.exp(rnd.nextGaussian() * 0.7));
            }
            items.add(new Item(cost, value));
        }
        return items;
    }

    @Test
    void matchesBruteForceOnRandomInstances() {
        Random rnd = new Random(7);
        int proven = 0;
        for (int trial = 0; trial < 300; trial++) {
            int n = 1 + rnd.nextInt(7), options = 2 + rnd.nextInt(4);
            List<Item> items = randomItems(rnd, n, options, trial % 2 == 0);
            long min = 0, max = 0;
            for (Item it : items) {
                min += java.util.Arrays.stream(it.cost()).min().getAsLong();
                max += java.util.Arrays.stream(it.cost()).max().getAsLong();
            }
            long budget = min + (long) (rnd.nextDouble() * (max - min + 10));
            double want = bruteForce(items, budget);
            Solution s = MultipleChoiceKnapsack.solve(items, budget);
            assertEquals(want, s.objective(), 1e-9 * Math.max(1, want), "trial " + trial);
            assertTrue(s.cost() <= budget);
            assertEquals(s.objective(), MultipleChoiceKnapsack.objective(items, s.choice()), 1e-12);
            assertTrue(s.lpBound() <= want + 1e-9 * Math.max(1, want), "LP bound " + s.lpBound() + " above the optimum " + want);
            assertEquals(want, s.lowerBound(), 1e-9 * Math.max(1, want), "exact DP: the bound is the optimum");
            assertTrue(s.provenOptimal());
            assertEquals("dp", s.method());
            proven++;
        }
        assertEquals(300, proven);
    }

    @Test
    void checkpointedDpIsExactWithoutTheFullChoiceTable() {
        Random rnd = new Random(8);
        for (int trial = 0; trial < 200; trial++) {
            List<Item> items = randomItems(rnd, 1 + rnd.nextInt(8), 4, false);
            long budget = 0;
            for (Item it : items) budget += it.cost()[1] + 3;
            double want = bruteForce(items, budget);
            for (int k = 1; k <= items.size(); k++) {
                Solution s = MultipleChoiceKnapsack.checkpointed(items, budget, k);
                assertEquals("dp-checkpointed", s.method());
                assertTrue(s.cost() <= budget, "feasible");
                assertEquals(want, s.objective(), 1e-9 * want, "trial " + trial + ", blocks of " + k);
                assertEquals(s.objective(), MultipleChoiceKnapsack.objective(items, s.choice()), 1e-12);
                assertTrue(s.provenOptimal());
            }
        }
    }

    @Test
    void coarseDpStaysFeasibleAndReportsItsGap() {
        Random rnd = new Random(9);
        int gaps = 0;
        for (int trial = 0; trial < 100; trial++) {
            List<Item> items = randomItems(rnd, 7, 4, false);
            long budget = 0;
            for (Item it : items) budget += it.cost()[1] + 3;
            double want = bruteForce(items, budget);
            Solution s = MultipleChoiceKnapsack.solve(items, budget, 1); // no room even for checkpoints: coarse units
            assertTrue(s.cost() <= budget, "feasible");
            assertTrue(s.objective() >= want - 1e-9 * want);
            assertTrue(s.lowerBound() <= want + 1e-9 * want, "the LP bound");
            assertEquals(s.objective() - s.lowerBound(), s.gap(), 1e-12 * Math.max(1, s.objective()));
            if (!s.provenOptimal()) gaps++;
        }
        assertTrue(gaps > 0, "a gap is reported when optimality is not proven");
    }

    @Test
    void handWorkedCase() {
        // three experts, widths {2, 3, 4} costing 2, 3, 4 units; budget 9 = average 3 bits.
        // errors: A (hot, sensitive) 100/30/5, B 10/3/1, C (rarely used) 1/0.5/0.4.
        // Best: A at 4 (saves 25 over 3), C at 2 (costs 0.5 over 3): A4 B3 C2 = 5 + 3 + 1 = 9 units, value 9.
        List<Item> items = List.of(new Item(new long[]{2, 3, 4}, new double[]{100, 30, 5}),
                new Item(new long[]{2, 3, 4}, new double[]{10, 3, 1}),
                new Item(new long[]{2, 3, 4}, new double[]{1, 0.5, 0.4}));
        Solution s = MultipleChoiceKnapsack.solve(items, 9);
        assertArrayEquals(new int[]{2, 1, 0}, s.choice());
        assertEquals(9.0, s.objective(), 1e-12);
        assertEquals(9, s.cost());
        assertTrue(s.provenOptimal());
        // uniform 3 bits would cost the same and score 33.5
        assertEquals(33.5, MultipleChoiceKnapsack.objective(items, new int[]{1, 1, 1}), 1e-12);
        // a budget of exactly the cheapest options leaves no choice; one below is refused with the numbers
        assertArrayEquals(new int[]{0, 0, 0}, MultipleChoiceKnapsack.solve(items, 6).choice());
        RoutecalException e = assertThrows(RoutecalException.class, () -> MultipleChoiceKnapsack.solve(items, 5));
        assertTrue(e.getMessage().contains("5") && e.getMessage().contains("6"), e.getMessage());
    }

    @Test
    void lowerHullDropsDominatedAndNonConvexOptions() {
        // (cost, value): (1, 10) (2, 9.5) (3, 4) (3, 6) (5, 1) (6, 1): hull = (1,10) (3,4) (5,1)
        Item it = new Item(new long[]{2, 1, 3, 3, 5, 6}, new double[]{9.5, 10, 6, 4, 1, 1});
        assertArrayEquals(new int[]{1, 3, 4}, MultipleChoiceKnapsack.lowerHull(it));
        // the LP bound interpolates on the hull: budget 4 → halfway from (3,4) to (5,1) = 2.5
        Solution s = MultipleChoiceKnapsack.solve(List.of(it), 4);
        assertEquals(2.5, s.lpBound(), 1e-12);
        assertEquals(4, s.lowerBound(), 1e-12); // the exact DP's optimum
        assertEquals(4, s.objective(), 1e-12);
        assertEquals(1.5, s.lambda(), 1e-12);
    }
}
