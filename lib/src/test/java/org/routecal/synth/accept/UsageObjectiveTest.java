package org.routecal.synth.accept;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.route.RoutingCounts;

/** The usage-weighted estimation error and its caps, on numbers worked out by hand. */
class UsageObjectiveTest {
    // usage: layer 0 picks [3, 1] → u = (¾, ¼); layer 1 picks [1, 1] → u = (½, ½); width d = 2; 4 tokens, top-1
    static final RoutingCounts USAGE = RoutingCounts.of(new long[][]{{3, 1}, {1, 1}}, 4);
    static final Map<String, Long> MIX = Map.of("a", 30L, "b", 10L); // ¾ a, ¼ b

    static UsageObjective objective(double maxDrift, double ratio) {
        return new UsageObjective(USAGE, MIX, 2, maxDrift, ratio);
    }

    @Test
    void expectedErrorAndGainByHand() {
        UsageObjective u = objective(1, 0);
        RoutingCounts n = RoutingCounts.of(new long[][]{{2, 0}, {0, 0}}, 2);
        // layer 0: ¾·2/(2+2) + ¼·2/(2+0) = 0.625; layer 1: ½·1 + ½·1 = 1 → J = 0.8125
        assertEquals(0.8125, u.expectedError(n), 1e-12);
        RoutingCounts c = RoutingCounts.of(new long[][]{{0, 2}, {1, 1}}, 2);
        // after: layer 0 ¾·½ + ¼·½ = 0.5; layer 1 ½·⅔ + ½·⅔ = ⅔ → J = (0.5 + ⅔)/2; gain = 0.8125 − 0.583̅
        double after = (0.5 + 2.0 / 3) / 2;
        assertEquals(0.8125 - after, u.gain(n, c), 1e-12);
        RoutingCounts sum = n.copy();
        sum.add(c);
        assertEquals(after, u.expectedError(sum), 1e-12);
        // diminishing returns: the same candidate gains less once added
        assertTrue(u.gain(sum, c) < u.gain(n, c));
        // an expert real use never picks is worth nothing
        UsageObjective skew = new UsageObjective(RoutingCounts.of(new long[][]{{4, 0}}, 4), MIX, 2, 1, 0);
        assertEquals(0, skew.gain(RoutingCounts.of(new long[][]{{0, 0}}, 0), RoutingCounts.of(new long[][]{{0, 5}}, 5)), 0);
    }

    @Test
    void verdictsAndDomainDrift() {
        UsageObjective u = objective(0.1, 0.5);
        SelectionState s = SelectionState.original(RoutingCounts.of(new long[][]{{30, 10}, {20, 20}}, 40), MIX);
        RoutingCounts c = RoutingCounts.of(new long[][]{{0, 20}, {10, 10}}, 20);
        // b +20 tokens: mix (30, 30) → TV(½,½ ‖ ¾,¼) = 0.25 > 0.1
        AcceptanceRule.Decision d = u.decide(s, c, "b");
        assertEquals("domain_drift", d.reason());
        assertEquals(0.25, u.drift(Map.of("a", 30L, "b", 30L)), 1e-12);
        // a +10 tokens: (40, 10) → TV 0.05: accepted; its score is gain per token
        RoutingCounts small = RoutingCounts.of(new long[][]{{10, 0}, {5, 5}}, 10);
        AcceptanceRule.Decision ok = u.decide(s, small, "a");
        assertTrue(ok.accepted(), ok.toString());
        assertEquals(ok.gain() / 10, ok.score(), 1e-15);
        // a move that lowers an existing drift is allowed even above the cap: (60, 10) is 0.107 off, (60, 20) is 0
        SelectionState off = SelectionState.original(RoutingCounts.of(new long[][]{{30, 10}, {20, 20}}, 70), Map.of("a", 60L, "b", 10L));
        assertTrue(u.decide(off, small, "b").accepted());
        // added tokens ≤ ½ × 40 original tokens: 30 more are refused
        RoutingCounts big = RoutingCounts.of(new long[][]{{20, 10}, {15, 15}}, 30);
        assertEquals("added_tokens_cap", objective(1, 0.5).decide(s, big, "a").reason());
        assertEquals("no_gain", u.decide(s, RoutingCounts.of(new long[][]{{0, 0}, {0, 0}}, 3), "a").reason());
    }

    @Test
    void refusesBadInput() {
        assertThrows(RoutecalException.class, () -> new UsageObjective(USAGE, MIX, 0, 0.1, 0));
        assertThrows(RoutecalException.class, () -> new UsageObjective(USAGE, MIX, 2, 0, 0));
        assertThrows(RoutecalException.class, () -> new UsageObjective(RoutingCounts.of(new long[][]{{0, 0}}, 0), MIX, 2, 0.1, 0));
        assertThrows(RoutecalException.class, () -> objective(1, 0).expectedError(RoutingCounts.of(new long[][]{{1, 1, 1}}, 1)));
    }
}
