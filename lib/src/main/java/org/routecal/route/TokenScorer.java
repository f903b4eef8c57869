package org.routecal.route;

/**
 * Scores tokens against slot sets: the reference's step 5 ratios and boxes, plus a continuous deficit score.
 * Pure math.
 *
 * <p>For each token, {@code nX}/{@code nY} = number of its (layer, pick) pairs whose slot is in the x/y set, and
 * x = nX / (layers·topK), y = nY / (layers·topK) in double, as the reference divides Python ints. Classes follow
 * {@link Boxes}. The deficit score is the mean over the token's picks of {@code deficit(slot) / target}: 0 when every
 * expert it uses already has enough tokens, 1 when all its experts have none.
 */
public final class TokenScorer {
    private final SlotSets sets;
    private final Boxes boxes;
    private final double[] deficitWeight; // [slots] deficit / target, in [0, 1]

    /**
     * @param deficits per-slot deficits {@code max(0, target − count)} // [slots]
     * @param target   the count target the deficits were computed against (> 0)
     */
    public TokenScorer(SlotSets sets, Boxes boxes, long[] deficits, long target) {
        this.sets = sets;
        this.boxes = boxes;
        this.deficitWeight = new double[deficits.length];
        for (int i = 0; i < deficits.length; i++) deficitWeight[i] = target > 0 ? (double) deficits[i] / target : 0;
    }

    public SlotSets sets() { return sets; }

    public Boxes boxes() { return boxes; }

    /** Scores every token of a batch. */
    public TokenScores score(RoutingBatch b) {
        RoutingGeometry g = b.geometry();
        int n = b.tokens(), layers = g.layers(), k = g.topK(), experts = g.experts();
        int total = g.picksPerToken();
        int[] nX = new int[n], nY = new int[n];
        double[] x = new double[n], y = new double[n], deficit = new double[n];
        boolean[] blue = new boolean[n], red = new boolean[n];
        short[] ids = b.expertIds();
        for (int t = 0; t < n; t++) {
            int cx = 0, cy = 0;
            double d = 0;
            for (int l = 0; l < layers; l++) {
                int base = b.pickOffset(t, l);
                for (int j = 0; j < k; j++) {
                    int slot = l * experts + ids[base + j];
                    if (sets.inX(slot)) cx++;
                    if (sets.inY(slot)) cy++;
                    d += deficitWeight[slot];
                }
            }
            nX[t] = cx;
            nY[t] = cy;
            x[t] = (double) cx / total;
            y[t] = (double) cy / total;
            deficit[t] = d / total;
            blue[t] = boxes.blue(x[t], y[t]);
            red[t] = boxes.red(x[t], y[t]);
        }
        return new TokenScores(sets.mode(), n, nX, nY, x, y, blue, red, deficit);
    }

    /**
     * Scores of one batch of tokens (struct of arrays, all of length {@code tokens}).
     *
     * @param deficitScore mean deficit weight of the token's picks, in [0, 1]
     */
    public record TokenScores(Mode mode, int tokens, int[] nX, int[] nY, double[] x, double[] y, boolean[] blue,
                              boolean[] red, double[] deficitScore) {}
}
