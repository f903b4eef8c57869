package org.routecal.quant.alloc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.routecal.RoutecalException;

/**
 * The multiple-choice knapsack: pick exactly one option per item to minimize Σ value subject to Σ cost ≤ budget.
 * Solved two ways, and the answer carries its own certificate:
 * <ol>
 *   <li>the LP relaxation (equal to the Lagrangian dual max_λ Σ_i min_j (v_ij + λ·c_ij) − λ·B), solved exactly by
 *       walking every item's lower convex hull in order of decreasing efficiency (Sinha–Zoltners): its value is a
 *       lower bound on the integer optimum, and the same walk, skipping the step that does not fit, gives a feasible
 *       solution;</li>
 *   <li>dynamic programming over the budget left after every item's cheapest option, in units of the gcd of the
 *       cost steps: exact (a proof of optimality). With one choice byte per cell when items × units fits
 *       {@code maxCells}; above that, up to {@link #MAX_EXACT_CELLS}, in checkpointed form (√n rows kept, choices
 *       rebuilt block by block: twice the time, O(√n·units) memory). Beyond that, over coarser units with costs
 *       rounded up (still feasible), competing with the greedy solution against the LP bound.</li>
 * </ol>
 * The better feasible solution is returned with the best lower bound known, the gap between them, and whether
 * optimality is proven.
 */
public final class MultipleChoiceKnapsack {
    private MultipleChoiceKnapsack() {}

    /** Cells (items × budget units) the exact DP may use by default: 40 M, i.e. 40 MB of choice bytes. */
    public static final long DEFAULT_MAX_CELLS = 40_000_000L;

    /**
     * One item's options.
     *
     * @param cost  [options] cost of each (≥ 0, e.g. bytes)
     * @param value [options] value of each, minimized (finite)
     */
    public record Item(long[] cost, double[] value) {
        public Item {
            if (cost.length == 0 || cost.length != value.length) throw new IllegalArgumentException("an item needs options with one cost and one value each");
            if (cost.length > 127) throw new IllegalArgumentException("at most 127 options per item, got " + cost.length);
            for (int j = 0; j < cost.length; j++) {
                if (cost[j] < 0) throw new IllegalArgumentException("negative cost " + cost[j]);
                if (!Double.isFinite(value[j])) throw new IllegalArgumentException("option " + j + " has value " + value[j]);
            }
        }
    }

    /**
     * @param choice        [items] the chosen option of each item
     * @param objective     Σ value of the choice
     * @param cost          Σ cost of the choice (≤ budget)
     * @param lowerBound    the best lower bound known on any feasible choice's objective: the exact optimum when a DP
     *                      ran over exact units, the LP bound otherwise
     * @param lpBound       the LP (= Lagrangian dual) lower bound
     * @param lambda        the Lagrange multiplier at the LP optimum (value per unit cost of the last step taken)
     * @param provenOptimal true when the objective is proven minimal (exact DP, or objective = lower bound)
     * @param method        "dp" (exact units), "dp-coarse" (costs rounded up to {@code unit}) or "lp-greedy"
     * @param unit          cost per DP unit
     */
    public record Solution(int[] choice, double objective, long cost, double lowerBound, double lpBound, double lambda,
                           boolean provenOptimal, String method, long unit) {
        /** objective − lowerBound (≥ 0). */
        public double gap() {
            return Math.max(0, objective - lowerBound);
        }

        /** gap / |objective|, 0 when both are 0. */
        public double relativeGap() {
            return objective == 0 ? 0 : gap() / Math.abs(objective);
        }
    }

    public static Solution solve(List<Item> items, long budget) {
        return solve(items, budget, DEFAULT_MAX_CELLS);
    }

    public static Solution solve(List<Item> items, long budget, long maxCells) {
        int n = items.size();
        if (n == 0) return new Solution(new int[0], 0, 0, 0, 0, 0, true, "dp", 1);
        long minTotal = 0;
        for (Item it : items) minTotal = Math.addExact(minTotal, Arrays.stream(it.cost()).min().getAsLong());
        if (minTotal > budget) {
            throw new RoutecalException("the budget of " + budget + " is below the " + minTotal
                    + " that the cheapest option of every item needs together");
        }
        Lp lp = lp(items, budget);
        Units u = units(items, budget);
        long exactCells = (long) n * (u.cap + 1);
        if (exactCells <= maxCells) return dp(items, u, u.unit, true, lp); // exact, with the whole choice table
        int k = (int) Math.ceil(Math.sqrt(n));
        long checkpointBytes = ((n + k - 1) / k + 1L) * (u.cap + 1) * 8 + (long) k * (u.cap + 1);
        if (exactCells <= MAX_EXACT_CELLS && checkpointBytes <= 8 * maxCells) return dpCheckpointed(items, u, k, lp);
        // too large for an exact DP in reasonable time: coarser units, costs rounded up (still feasible)
        long coarse = u.unit * (long) Math.ceil(exactCells / (double) maxCells);
        Solution c = dp(items, units(items, budget, coarse), coarse, false, lp);
        Solution best = c.objective() <= lp.greedy.objective() ? c : lp.greedy;
        boolean proven = best.objective() - lp.bound <= 1e-12 * Math.max(1, Math.abs(lp.bound));
        return new Solution(best.choice(), best.objective(), best.cost(), lp.bound, lp.bound, lp.lambda, proven, best.method(), best.unit());
    }

    /** Cells of the exact DP in checkpointed form (a time limit: it visits each cell twice, × options). */
    public static final long MAX_EXACT_CELLS = 1_000_000_000L;

    /** The DP's view of the costs: per-item cost above its cheapest option, in units; capacity in units. */
    private record Units(long unit, int cap, long[] minCost, int[][] units) {}

    private static Units units(List<Item> items, long budget) {
        long g = 0;
        for (Item it : items) {
            long min = Arrays.stream(it.cost()).min().getAsLong();
            for (long c : it.cost()) g = gcd(g, c - min);
        }
        return units(items, budget, g == 0 ? 1 : g); // g = 0: every item has one cost, nothing to choose by cost
    }

    /** Costs above the cheapest option rounded up to {@code unit} (exact when unit divides them all). */
    private static Units units(List<Item> items, long budget, long unit) {
        int n = items.size();
        long[] minCost = new long[n];
        long capacity = budget, span = 0;
        for (int i = 0; i < n; i++) {
            minCost[i] = Arrays.stream(items.get(i).cost()).min().getAsLong();
            capacity -= minCost[i];
            span += Arrays.stream(items.get(i).cost()).max().getAsLong() - minCost[i];
        }
        int cap = (int) Math.min(Math.min(capacity, span) / unit, Integer.MAX_VALUE - 1);
        int[][] units = new int[n][];
        for (int i = 0; i < n; i++) {
            long[] c = items.get(i).cost();
            units[i] = new int[c.length];
            for (int j = 0; j < c.length; j++) units[i][j] = (int) Math.min((c[j] - minCost[i] + unit - 1) / unit, (long) cap + 1);
        }
        return new Units(unit, cap, minCost, units);
    }

    /** The checkpointed exact DP with blocks of {@code k} items, whatever the size (tests exercise every block split). */
    static Solution checkpointed(List<Item> items, long budget, int k) {
        return dpCheckpointed(items, units(items, budget), k, lp(items, budget));
    }

    /**
     * The exact DP in O(√n·cap) memory: rows are kept only at the start of every block of k items; the choices are
     * then rebuilt block by block from the last, recomputing each block's rows from its checkpoint with a choice
     * table for those k items only (the same argmins, since the DP is deterministic).
     */
    private static Solution dpCheckpointed(List<Item> items, Units u, int k, Lp lp) {
        int n = items.size(), blocks = (n + k - 1) / k;
        double[][] checkpoint = new double[blocks][];
        double[] best = new double[u.cap + 1], next = new double[u.cap + 1];
        for (int i = 0; i < n; i++) {
            if (i % k == 0) checkpoint[i / k] = best.clone();
            step(items.get(i).value(), u.units[i], best, next, null);
            double[] t = best;
            best = next;
            next = t;
        }
        int[] choice = new int[n];
        int b = u.cap;
        byte[][] pick = new byte[k][u.cap + 1];
        for (int bi = blocks - 1; bi >= 0; bi--) {
            int from = bi * k, to = Math.min(n, from + k);
            double[] row = checkpoint[bi];
            checkpoint[bi] = null;
            for (int i = from; i < to; i++) {
                step(items.get(i).value(), u.units[i], row, next, pick[i - from]);
                double[] t = row;
                row = next;
                next = t;
            }
            for (int i = to - 1; i >= from; i--) {
                int j = pick[i - from][b];
                choice[i] = j;
                b -= u.units[i][j];
            }
        }
        double objective = objective(items, choice);
        return new Solution(choice, objective, totalCost(items, choice), objective, lp.bound, lp.lambda, true, "dp-checkpointed", u.unit);
    }

    /** One DP row: next[b] = min_j best[b − units_j] + value_j; the argmin into {@code pick} when given. */
    private static void step(double[] value, int[] units, double[] best, double[] next, byte[] pick) {
        for (int b = 0; b < next.length; b++) {
            double v = Double.POSITIVE_INFINITY;
            byte arg = -1;
            for (int j = 0; j < value.length; j++) {
                if (units[j] > b) continue;
                double c = best[b - units[j]] + value[j];
                if (c < v) {
                    v = c;
                    arg = (byte) j;
                }
            }
            next[b] = v;
            if (pick != null) pick[b] = arg;
        }
    }

    private record Lp(double bound, double lambda, Solution greedy) {}

    /** One step along an item's lower convex hull: from option {@code from} to option {@code to}. */
    private record Step(int item, int to, long dc, double dv, int order) {
        double efficiency() {
            return dc == 0 ? Double.POSITIVE_INFINITY : -dv / dc;
        }
    }

    private static Lp lp(List<Item> items, long budget) {
        int n = items.size();
        int[] start = new int[n];
        List<Step> steps = new ArrayList<>();
        long cost = 0;
        double value = 0;
        for (int i = 0; i < n; i++) {
            int[] hull = lowerHull(items.get(i));
            start[i] = hull[0];
            cost += items.get(i).cost()[hull[0]];
            value += items.get(i).value()[hull[0]];
            for (int k = 1; k < hull.length; k++) {
                Item it = items.get(i);
                steps.add(new Step(i, hull[k], it.cost()[hull[k]] - it.cost()[hull[k - 1]], it.value()[hull[k]] - it.value()[hull[k - 1]], k));
            }
        }
        // efficiency is non-increasing along each hull, so this order also keeps every item's steps in hull order
        steps.sort(Comparator.comparingDouble(Step::efficiency).reversed().thenComparingInt(Step::item).thenComparingInt(Step::order));
        int[] choice = start.clone();
        boolean[] blocked = new boolean[n];
        long left = budget - cost;
        double bound = Double.NaN, lambda = 0;
        for (Step s : steps) {
            if (blocked[s.item()]) continue;
            if (s.dc() <= left) {
                left -= s.dc();
                value += s.dv();
                choice[s.item()] = s.to();
                if (Double.isNaN(bound)) lambda = s.efficiency();
            } else {
                if (Double.isNaN(bound)) {
                    bound = value + s.dv() * ((double) left / s.dc()); // the LP takes this step fractionally
                    lambda = s.efficiency();
                }
                blocked[s.item()] = true; // its later hull steps need this one first
            }
        }
        if (Double.isNaN(bound)) bound = value; // every step fitted: the LP optimum is integral
        Solution greedy = new Solution(choice, objective(items, choice), totalCost(items, choice), bound, bound, lambda, false, "lp-greedy", 1);
        return new Lp(bound, lambda, greedy);
    }

    /** Indices of the item's lower convex hull in (cost, value), from the cheapest (then lowest-value) option on. */
    static int[] lowerHull(Item it) {
        int m = it.cost().length;
        Integer[] idx = new Integer[m];
        for (int j = 0; j < m; j++) idx[j] = j;
        Arrays.sort(idx, Comparator.comparingLong((Integer j) -> it.cost()[j]).thenComparingDouble(j -> it.value()[j]));
        List<Integer> hull = new ArrayList<>();
        for (int j : idx) {
            if (!hull.isEmpty()) {
                int last = hull.get(hull.size() - 1);
                if (it.cost()[j] == it.cost()[last] || it.value()[j] >= it.value()[last]) continue; // dominated
            }
            // pop while the last point lies on or above the segment from the one before it to j
            while (hull.size() >= 2) {
                int a = hull.get(hull.size() - 2), b = hull.get(hull.size() - 1);
                double cross = (double) (it.cost()[b] - it.cost()[a]) * (it.value()[j] - it.value()[a])
                        - (double) (it.cost()[j] - it.cost()[a]) * (it.value()[b] - it.value()[a]);
                if (cross <= 0) hull.remove(hull.size() - 1); else break;
            }
            hull.add(j);
        }
        return hull.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The DP with its choice table: best[b] = min Σ value with at most b units used by the items so far. */
    private static Solution dp(List<Item> items, Units u, long unit, boolean exact, Lp lp) {
        int n = items.size();
        double[] best = new double[u.cap + 1], next = new double[u.cap + 1];
        byte[][] pick = new byte[n][u.cap + 1];
        for (int i = 0; i < n; i++) {
            step(items.get(i).value(), u.units[i], best, next, pick[i]);
            double[] t = best;
            best = next;
            next = t;
        }
        int[] choice = new int[n];
        int b = u.cap;
        for (int i = n - 1; i >= 0; i--) {
            int j = pick[i][b];
            choice[i] = j;
            b -= u.units[i][j];
        }
        double objective = objective(items, choice);
        return new Solution(choice, objective, totalCost(items, choice), exact ? objective : lp.bound, lp.bound, lp.lambda, exact,
                exact ? "dp" : "dp-coarse", unit);
    }

    static double objective(List<Item> items, int[] choice) {
        double s = 0;
        for (int i = 0; i < choice.length; i++) s += items.get(i).value()[choice[i]];
        return s;
    }

    static long totalCost(List<Item> items, int[] choice) {
        long s = 0;
        for (int i = 0; i < choice.length; i++) s += items.get(i).cost()[choice[i]];
        return s;
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return Math.abs(a);
    }
}
