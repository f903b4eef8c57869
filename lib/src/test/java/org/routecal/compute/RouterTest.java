package org.routecal.compute;

import org.junit.jupiter.api.Test;
import org.routecal.compute.RouterRule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Router rules on hand-written logits, values worked out by hand (STYLE H2). */
class RouterTest {
    private static void route(RouterRule rule, float[] logits, float[] bias, int[] ids, float[] w) {
        Router.route(rule, logits, 0, logits.length, bias, ids, 0, w, 0);
    }

    @Test
    void softmaxTopTwoWithAndWithoutNormalisation() {
        // logits ln(1), ln(2), ln(3), ln(4): softmax = 0.1, 0.2, 0.3, 0.4
        float[] logits = {0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};
        int[] ids = new int[2];
        float[] w = new float[2];
        route(RouterRule.softmaxTopK(2, false), logits, null, ids, w);
        assertArrayEquals(new int[]{3, 2}, ids);
        assertArrayEquals(new float[]{0.4f, 0.3f}, w, 1e-6f);
        route(RouterRule.softmaxTopK(2, true), logits, null, ids, w);
        assertArrayEquals(new float[]{4f / 7, 3f / 7}, w, 1e-6f);
    }

    @Test
    void exactTiesGoToTheLowerIndex() {
        float[] logits = {1f, 2f, 2f, 0f};
        int[] ids = new int[1];
        float[] w = new float[1];
        route(RouterRule.softmaxTopK(1, false), logits, null, ids, w);
        assertEquals(1, ids[0]);
    }

    @Test
    void sigmoidGroupedWithBiasChoosesByCorrectedScoresButWeighsByPlainOnes() {
        // 4 experts in 2 groups, keep 1 group, top-2. Plain sigmoid(0) = 0.5 for all; the bias makes group 1 win.
        float[] logits = {0f, 0f, 0f, 0f};
        float[] bias = {0f, 0.1f, 0.3f, 0.2f};
        int[] ids = new int[2];
        float[] w = new float[2];
        route(RouterRule.sigmoidGroupedTopK(2, 2, 1, true, 2.5f), logits, bias, ids, w);
        assertArrayEquals(new int[]{2, 3}, ids);
        // normalised: 0.5 / (0.5 + 0.5) = 0.5, then scaled by 2.5
        assertArrayEquals(new float[]{1.25f, 1.25f}, w, 1e-6f);
    }

    @Test
    void groupScoreIsTheSumOfTheTwoBest() {
        // group 0 = {0.9, 0.0} (sum 0.9), group 1 = {0.5, 0.5} (sum 1.0): group 1 wins although it has no top expert
        float[] logits = new float[4];
        float[] bias = {0.9f, 0f, 0.5f, 0.5f};
        int[] ids = new int[1];
        float[] w = new float[1];
        route(RouterRule.sigmoidGroupedTopK(1, 2, 1, false, 1f), logits, bias, ids, w);
        assertEquals(2, ids[0]);
    }
}
