package org.routecal.route;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The reference's weight-outlier "Q-sensitivity" score (step 4, {@code blockwise_max_median_ratio}), reproduced
 * bit for bit in float32. Pure math.
 *
 * <p>For one weight W [out, in] (input dim last, as HF Linear stores it): take |W| over the first
 * {@code floor(in/g)·g} columns, split each row into groups of g along the input dim, and compute per group
 * {@code max / max(median, 1e-20)}; the matrix score is the maximum over all rows and groups, NaN when in &lt; g.
 * The median is torch's {@code torch.median}, i.e. the <em>lower</em> median (the ⌊(g−1)/2⌋-th smallest, the 64th of
 * 128), not numpy's mean of the two middle values: the reference calls torch. The division is float32, as in torch.
 * An expert's score is the maximum over gate_proj, up_proj and down_proj of the non-NaN matrix scores (NaN if all are).
 */
public final class ReferenceSensitivity {
    /** Group size along the input dim (ModelOpt INT4 blockwise default, used by the reference). */
    public static final int GROUP = 128;
    private static final float MEDIAN_FLOOR = 1e-20f;

    private ReferenceSensitivity() {}

    /**
     * Score of one matrix. // w: [rows, cols] row-major
     *
     * <p>Only a group that can beat the best ratio so far needs its median: when fewer than k + 1 of its values lie
     * below {@code max / best} (with a margin far above float rounding), its median is at least that, so its ratio
     * cannot exceed the best, and one counting pass replaces the selection. The result is the same maximum, bit for
     * bit; the selection ran in a quarter of a 30B-geometry route before. The max and the count are vector loops.
     */
    public static float matrix(float[] w, int rows, int cols, int group) {
        if (cols < group) return Float.NaN;
        int groups = cols / group, k = (group - 1) / 2;
        float[] scratch = new float[group];
        float best = Float.NEGATIVE_INFINITY;
        for (int r = 0; r < rows; r++) {
            int rowBase = r * cols;
            for (int gi = 0; gi < groups; gi++) {
                int base = rowBase + gi * group;
                float max = absMax(w, base, group);
                if (best > 0 && max > 0) {
                    // the median m is a value of the group: m ≥ t ⟺ at most k values lie below t; then
                    // max / m ≤ best / (1 + 1e-6), which float division cannot round up past best
                    double t = (double) max / best * (1 + 1e-6);
                    if (countAbsBelow(w, base, group, t) <= k) continue;
                }
                for (int i = 0; i < group; i++) scratch[i] = Math.abs(w[base + i]);
                float median = select(scratch, k);
                float ratio = max / Math.max(median, MEDIAN_FLOOR);
                if (ratio > best) best = ratio;
            }
        }
        return best;
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** max |w[base + i]|, i in [0, n). */
    static float absMax(float[] w, int base, int n) {
        int i = 0;
        FloatVector m = FloatVector.zero(F);
        for (int bound = F.loopBound(n); i < bound; i += F.length()) m = m.max(FloatVector.fromArray(F, w, base + i).abs());
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, Math.abs(w[base + i]));
        return max;
    }

    /** How many |w[base + i]|, i in [0, n), are below t (a double, compared exactly). */
    static int countAbsBelow(float[] w, int base, int n, double t) {
        // a float a is below t exactly when it is below the smallest float ≥ t
        float tf = (float) t;
        if ((double) tf < t) tf = Math.nextUp(tf);
        int i = 0, below = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            below += FloatVector.fromArray(F, w, base + i).abs().compare(VectorOperators.LT, tf).trueCount();
        }
        for (; i < n; i++) below += Math.abs(w[base + i]) < t ? 1 : 0;
        return below;
    }

    /** Score of one expert: max over its three projections, ignoring NaN (matrices narrower than a group). */
    public static float expert(float gateProj, float upProj, float downProj) {
        float best = Float.NaN;
        for (float s : new float[]{gateProj, upProj, downProj}) {
            if (!Float.isNaN(s) && (Float.isNaN(best) || s > best)) best = s;
        }
        return best;
    }

    /** The k-th smallest value (0-based) of a, by quickselect; reorders a. */
    static float select(float[] a, int k) {
        int lo = 0, hi = a.length - 1;
        while (lo < hi) {
            float pivot = a[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    float t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return a[k];
        }
        return a[k];
    }
}
