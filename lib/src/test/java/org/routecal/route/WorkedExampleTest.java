package org.routecal.route;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A three-token example worked by hand (2 MoE layers × 4 experts, top-2). Picks:
 * <pre>
 *   token  layer0  layer1      slots (layer·4 + expert)
 *   t0     0 1     0 2         0 1 4 6
 *   t1     0 1     0 3         0 1 4 7
 *   t2     0 2     1 0         0 2 5 4
 * counts per slot s0..s7 = 3 2 1 0 | 3 1 1 1
 * </pre>
 * Global ranking, thr 0.25: n = ceil(0.25·8) = 2. Descending by count, ties by slot: s0 s4 s1 s2 s5 s6 s7 s3, so
 * frequent (y) = [s0, s4] and scarce (x) = [s7, s3]. Ratios over 4 picks: t0 (x 0, y .5), t1 (x .25, y .5),
 * t2 (x 0, y .5). Reference balance boxes: no blue (y ≤ .77); red ⇔ x &gt; .15 ∧ y &lt; .6 → t1 only.
 * Per-layer ranking: n = ceil(0.25·4) = 1 per layer: y = [s0, s4], x = [s3, s7].
 * Target 2: deficits 0 0 1 2 | 0 1 1 1; t1's deficit score = (0+0+0+1)/2/4 = 0.125.
 * Layer 0 counts 3 2 1 0: mean 1.5, std √1.25, cv 0.745356; Gini Σ(2i−n−1)c₍ᵢ₎/(nΣc) = (−1+2+9)/24 = 0.416667;
 * entropy (½ln2 + ⅓ln3 + ⅙ln6)/ln4 = 0.729574; coverage at 2 = 0.5; deficit 3; max/mean 2; min 0.
 */
class WorkedExampleTest {
    static final RoutingGeometry G = new RoutingGeometry(new int[]{0, 1}, 4, 2);

    static RoutingBatch batch() {
        short[] ids = {0, 1, 0, 2, /* t1 */ 0, 1, 0, 3, /* t2 */ 0, 2, 1, 0};
        float[] w = {.6f, .4f, .7f, .3f, .6f, .4f, .7f, .3f, .6f, .4f, .7f, .3f};
        return new RoutingBatch(G, 3, new int[]{0, 0, 0}, new int[]{0, 1, 2}, new int[]{5, 6, 7},
                new int[]{0, 2, 4}, new int[]{2, 4, 6}, ids, w);
    }

    static ExpertCounts counts() {
        ExpertCounts c = new ExpertCounts(G, List.of("chat"));
        c.add(batch(), new int[]{0});
        return c;
    }

    @Test
    void countsAndGlobalSets() {
        ExpertCounts c = counts();
        assertArrayEquals(new long[]{3, 2, 1, 0, 3, 1, 1, 1}, c.counts());
        SlotSets s = SlotSets.balance(G, c.counts(), 0.25, 0.25, Ranking.GLOBAL);
        assertArrayEquals(new int[]{0, 4}, s.y());
        assertArrayEquals(new int[]{7, 3}, s.x());
    }

    @Test
    void perLayerSets() {
        SlotSets s = SlotSets.balance(G, counts().counts(), 0.25, 0.25, Ranking.PER_LAYER);
        assertArrayEquals(new int[]{0, 4}, s.y());
        assertArrayEquals(new int[]{3, 7}, s.x());
    }

    @Test
    void tokenRatiosClassesAndDeficitScore() {
        long[] counts = counts().counts();
        SlotSets s = SlotSets.balance(G, counts, 0.25, 0.25, Ranking.GLOBAL);
        TokenScorer.TokenScores ts = new TokenScorer(s, Mode.BALANCE.defaultBoxes(), BalanceMetrics.deficits(counts, 2), 2).score(batch());
        assertArrayEquals(new double[]{0, 0.25, 0}, ts.x(), 0.0);
        assertArrayEquals(new double[]{0.5, 0.5, 0.5}, ts.y(), 0.0);
        assertFalse(ts.blue()[0] || ts.blue()[1] || ts.blue()[2]);
        assertFalse(ts.red()[0]);
        assertTrue(ts.red()[1]);
        assertFalse(ts.red()[2]);
        assertEquals(0.125, ts.deficitScore()[1], 1e-15);
        assertEquals((0 + 0 + 0 + 1 / 2.0) / 4, ts.deficitScore()[0], 1e-15); // slot 6 deficit 1
    }

    @Test
    void layerMetrics() {
        BalanceMetrics m = BalanceMetrics.perLayer(counts(), 2).get(0);
        assertEquals(6, m.picks());
        assertEquals(0.745356, m.cv(), 1e-6);
        assertEquals(0.416667, m.gini(), 1e-6);
        assertEquals(0.729574, m.entropyNorm(), 1e-6);
        assertEquals(0.5, m.coverage(), 0.0);
        assertEquals(3, m.deficit());
        assertEquals(2, m.belowTarget());
        assertEquals(2.0, m.maxOverMean(), 1e-12);
        assertEquals(0, m.min());
    }

    @Test
    void rankCountFollowsPythonCeilOfDoubleProduct() {
        assertEquals(8, SlotSets.rankCount(0.07, 100)); // Python: math.ceil(0.07 * 100) == 8 (7.000000000000001)
        assertEquals(3, SlotSets.rankCount(0.1, 30));
        assertEquals(1536, SlotSets.rankCount(0.25, 6144));
        assertEquals(0, SlotSets.rankCount(0, 10));
        assertEquals(10, SlotSets.rankCount(1.5, 10));
    }

    @Test
    void evenCountsAreBalanced() {
        BalanceMetrics m = BalanceMetrics.of(0, new long[]{5, 5, 5, 5}, 5);
        assertEquals(0.0, m.cv(), 0.0);
        assertEquals(1.0, m.entropyNorm(), 1e-12);
        assertEquals(0.0, m.gini(), 0.0);
        assertEquals(1.0, m.coverage(), 0.0);
    }
}
