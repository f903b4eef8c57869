package org.routecal.route;

import org.routecal.RoutecalException;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;

/**
 * The two slot sets that give a token its (x, y) point, built by rank quantiles exactly as the reference does.
 *
 * <p>Balance (reference step 3, {@code --thr-basis full}): slots sorted by count descending, ties by
 * (layer, expert_id) ascending; y = "frequent" = the first {@code ceil(freqThr·n)} slots, x = "less"/scarce = the
 * last {@code ceil(lessThr·n)}. Q-sensitivity (step 4): slots sorted by sensitivity ascending, NaN last, ties by
 * (layer, expert_id); y = "robust" = the first {@code ceil(robThr·n)}, x = "sensitive" = the last
 * {@code ceil(senThr·n)}. The count is the reference's {@code rank_count_for_threshold}: 0 for thr ≤ 0, else
 * {@code min(n, ceil(thr·n))} with thr·n evaluated in IEEE double as in Python (so 0.07·100 = 7.000000000000001 gives 8).
 * These are rank sets, not numpy quantiles: no interpolation is involved.
 *
 * <p>{@link Ranking#PER_LAYER} applies the same rule inside each layer (n = experts), instead of over all slots.
 *
 * @param x slots of the x set, in the reference's list order // [nX]
 * @param y slots of the y set, in the reference's list order // [nY]
 */
public record SlotSets(Mode mode, Ranking ranking, RoutingGeometry geometry, double thrX, double thrY, int[] x, int[] y,
                       BitSet xMask, BitSet yMask) {

    /** Balance sets from per-slot counts. // counts: [slots] */
    public static SlotSets balance(RoutingGeometry g, long[] counts, double freqThr, double lessThr, Ranking ranking) {
        checkLength(g, counts.length, "counts");
        // descending count, then slot (= (layer, expert) ascending)
        Comparator<Integer> order = (a, b) -> counts[a] != counts[b] ? Long.compare(counts[b], counts[a]) : Integer.compare(a, b);
        int[][] xy = build(g, order, lessThr, freqThr, ranking);
        return new SlotSets(Mode.BALANCE, ranking, g, lessThr, freqThr, xy[0], xy[1], mask(xy[0]), mask(xy[1]));
    }

    /** Q-sensitivity sets from per-slot sensitivity scores (NaN = unscored, ranked last). // sensitivity: [slots] */
    public static SlotSets qSensitivity(RoutingGeometry g, double[] sensitivity, double robThr, double senThr, Ranking ranking) {
        checkLength(g, sensitivity.length, "sensitivity");
        Comparator<Integer> order = (a, b) -> {
            int c = Double.compare(key(sensitivity[a]), key(sensitivity[b]));
            return c != 0 ? c : Integer.compare(a, b);
        };
        int[][] xy = build(g, order, senThr, robThr, ranking);
        return new SlotSets(Mode.Q_SENSITIVITY, ranking, g, senThr, robThr, xy[0], xy[1], mask(xy[0]), mask(xy[1]));
    }

    /** The reference's {@code rank_count_for_threshold(thr, n)}. */
    public static int rankCount(double thr, int n) {
        if (n <= 0 || !(thr > 0)) return 0;
        double k = Math.ceil(thr * n);
        return (int) Math.min(n, Math.max(0, k));
    }

    public boolean inX(int slot) { return xMask.get(slot); }

    public boolean inY(int slot) { return yMask.get(slot); }

    @Override public int[] x() { return x.clone(); }

    @Override public int[] y() { return y.clone(); }

    // The reference sorts NaN as +inf (then by (layer, expert)); Double.compare would put NaN after +inf instead.
    private static double key(double s) { return Double.isNaN(s) ? Double.POSITIVE_INFINITY : s; }

    /** x = the last ceil(tailThr·n) of the order, y = the first ceil(headThr·n); per layer or over all slots. */
    private static int[][] build(RoutingGeometry g, Comparator<Integer> order, double tailThr, double headThr, Ranking ranking) {
        int groups = ranking == Ranking.GLOBAL ? 1 : g.layers();
        int n = g.slots() / groups;
        int nTail = rankCount(tailThr, n), nHead = rankCount(headThr, n);
        int[] x = new int[nTail * groups], y = new int[nHead * groups];
        for (int grp = 0; grp < groups; grp++) {
            Integer[] sorted = new Integer[n];
            for (int i = 0; i < n; i++) sorted[i] = grp * n + i;
            Arrays.sort(sorted, order); // stable merge sort; the comparator is total anyway
            for (int i = 0; i < nTail; i++) x[grp * nTail + i] = sorted[n - nTail + i];
            for (int i = 0; i < nHead; i++) y[grp * nHead + i] = sorted[i];
        }
        return new int[][]{x, y};
    }

    private static BitSet mask(int[] slots) {
        BitSet b = new BitSet();
        for (int s : slots) b.set(s);
        return b;
    }

    private static void checkLength(RoutingGeometry g, int length, String what) {
        if (length != g.slots()) throw new RoutecalException("slot sets: " + what + " has " + length + " entries, expected " + g.slots());
    }
}
