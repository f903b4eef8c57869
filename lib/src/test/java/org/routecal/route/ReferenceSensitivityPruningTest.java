package org.routecal.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The pruned matrix score equals the maximum over every group's exact ratio, bit for bit, also at ties. */
class ReferenceSensitivityPruningTest {
    /** Every group's median by selection, no pruning: the definition. */
    static float bruteForce(float[] w, int rows, int cols, int group) {
        float best = Float.NEGATIVE_INFINITY;
        float[] scratch = new float[group];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < cols / group; g++) {
                float max = 0;
                for (int i = 0; i < group; i++) {
                    scratch[i] = Math.abs(w[r * cols + g * group + i]);
                    max = Math.max(max, scratch[i]);
                }
                float ratio = max / Math.max(ReferenceSensitivity.select(scratch, (group - 1) / 2), 1e-20f);
                best = Math.max(best, ratio);
            }
        }
        return best;
    }

    @Test
    void prunedScoreIsTheExactMaximum() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++) {
            int rows = 1 + rnd.nextInt(6), group = trial % 3 == 0 ? 128 : 1 + rnd.nextInt(20), cols = group * (1 + rnd.nextInt(5));
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextDouble() * 2 - 1) * (rnd.nextInt(50) == 0 ? 20 : 1);
            if (trial % 4 == 1) { // repeated groups: exact ties with the best so far
                for (int i = group; i < w.length; i++) w[i] = w[i % group] * (rnd.nextBoolean() ? 1 : -1);
            }
            if (trial % 5 == 2) for (int i = 0; i < w.length; i += 3) w[i] = 0f;           // zero medians
            if (trial % 7 == 3) java.util.Arrays.fill(w, 0, Math.min(w.length, group), 0f); // an all-zero group first
            assertEquals(Float.floatToIntBits(bruteForce(w, rows, cols, group)), Float.floatToIntBits(ReferenceSensitivity.matrix(w, rows, cols, group)),
                    "trial " + trial + ": rows " + rows + ", cols " + cols + ", group " + group);
        }
    }
}
