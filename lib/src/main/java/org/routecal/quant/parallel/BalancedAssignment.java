package org.routecal.quant.parallel;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Balanced bin-packing of work items (a layer's experts and dense module groups) onto devices: longest processing time
 * first (Graham's LPT). Items are taken in decreasing cost, ties by index, and each goes to the device with the least
 * load so far, ties to the lower device. Deterministic: the same costs always give the same owners. Bound: the
 * largest load is at most (4/3 − 1/(3·bins)) of the best possible, and at most the mean load plus (1 − 1/bins) of the
 * largest item.
 */
public final class BalancedAssignment {
    private BalancedAssignment() {}

    /** The owner (0 ≤ owner &lt; bins) of every item; costs must be finite and ≥ 0. */
    public static int[] assign(double[] costs, int bins) {
        if (bins < 1) throw new IllegalArgumentException("bins must be ≥ 1, got " + bins);
        for (int i = 0; i < costs.length; i++) {
            if (!(costs[i] >= 0) || Double.isInfinite(costs[i])) throw new IllegalArgumentException("cost " + i + " is " + costs[i]);
        }
        Integer[] order = IntStream.range(0, costs.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -costs[i]).thenComparingInt(i -> i));
        double[] load = new double[bins];
        int[] owner = new int[costs.length];
        for (int item : order) {
            int best = 0;
            for (int b = 1; b < bins; b++) if (load[b] < load[best]) best = b;
            owner[item] = best;
            load[best] += costs[item];
        }
        return owner;
    }

    /** Σ costs per bin for an assignment. */
    public static double[] loads(double[] costs, int[] owners, int bins) {
        double[] load = new double[bins];
        for (int i = 0; i < costs.length; i++) load[owners[i]] += costs[i];
        return load;
    }
}
