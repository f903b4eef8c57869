package org.routecal.synth.accept;

import org.routecal.route.RoutingCounts;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class AcceptanceRuleTest {
    /** One layer, four experts, top-1: the original corpus has 40 tokens, target 10 per slot → deficits [0, 0, 5, 5]. */
    private static final RoutingCounts ORIGINAL = RoutingCounts.of(new long[][]{{20, 10, 5, 5}}, 40);

    private static RoutingCounts cand(long... c) {
        long t = 0;
        for (long x : c) t += x;
        return RoutingCounts.of(new long[][]{c}, t);
    }

    @Test void jsDivergenceMatchesNumpyReference() throws Exception {
        JsonNode fx = new ObjectMapper().readTree(Path.of("../tests/fixtures/synth/js_divergence.json").toFile());
        for (JsonNode c : fx.get("cases")) {
            long[] a = new ObjectMapper().convertValue(c.get("a"), long[].class), b = new ObjectMapper().convertValue(c.get("b"), long[].class);
            assertEquals(c.get("js_bits").asDouble(), cand(a).meanJsDivergence(cand(b)), 1e-12, c.toString());
        }
    }

    @Test void gainIsDeficitCovered() {
        AcceptanceRule r = new AcceptanceRule(AcceptanceParams.uncapped(10), ORIGINAL);
        // only experts 2 and 3 have a deficit (5 each); 7 picks of expert 3 cover at most 5
        assertEquals(5 + 3, r.gain(ORIGINAL, cand(9, 9, 3, 7)));
        assertEquals(0, r.gain(ORIGINAL, cand(9, 9, 0, 0)));
    }

    @Test void candidateOnlyOnFullSlotsIsRejected() {
        AcceptanceRule r = new AcceptanceRule(AcceptanceParams.defaults(10), ORIGINAL);
        AcceptanceRule.Decision d = r.decide(ORIGINAL, cand(3, 1, 0, 0));
        assertFalse(d.accepted());
        assertEquals("no_deficit_gain", d.reason());
    }

    @Test void candidateFocusedOnRareExpertsIsCappedButAcceptedWithoutCaps() {
        RoutingCounts c = cand(0, 0, 3, 1); // JS 0.569 bits from the original (numpy fixture)
        AcceptanceRule.Decision capped = new AcceptanceRule(AcceptanceParams.defaults(10), ORIGINAL).decide(ORIGINAL, c);
        assertEquals("candidate_divergence", capped.reason());
        AcceptanceRule.Decision free = new AcceptanceRule(AcceptanceParams.uncapped(10), ORIGINAL).decide(ORIGINAL, c);
        assertTrue(free.accepted());
        assertEquals(4, free.gain());
        assertEquals(1.0, free.score(), 1e-12);
    }

    @Test void nearOriginalCandidateWithGainIsAccepted() {
        AcceptanceRule.Decision d = new AcceptanceRule(AcceptanceParams.defaults(10), ORIGINAL).decide(ORIGINAL, cand(4, 2, 2, 2));
        assertTrue(d.accepted(), d.toString());
        assertEquals(4, d.gain());
        assertEquals(0.4, d.score(), 1e-12);
    }

    @Test void corpusDriftAndAddedTokenCapsBite() {
        AcceptanceParams tightDrift = new AcceptanceParams(10, 0, 1, 1e-6, 0);
        assertEquals("corpus_drift", new AcceptanceRule(tightDrift, ORIGINAL).decide(ORIGINAL, cand(4, 2, 2, 2)).reason());
        AcceptanceParams smallBudget = new AcceptanceParams(10, 0, 1, 1, 0.1); // at most 4 added tokens
        assertEquals("added_tokens_cap", new AcceptanceRule(smallBudget, ORIGINAL).decide(ORIGINAL, cand(4, 2, 2, 2)).reason());
        assertTrue(new AcceptanceRule(smallBudget, ORIGINAL).decide(ORIGINAL, cand(0, 1, 1, 1)).accepted());
    }

    @Test void greedyAcceptanceLowersDeficitAndKeepsDriftUnderTheCap() {
        Random rnd = new Random(7);
        int layers = 3, experts = 8;
        long[][] o = new long[layers][experts];
        for (long[] row : o) for (int e = 0; e < experts; e++) row[e] = 5 + (long) (200 * Math.pow(rnd.nextDouble(), 3));
        RoutingCounts original = RoutingCounts.of(o, 400);
        AcceptanceParams p = new AcceptanceParams(60, 0, 0.3, 0.03, 2.0);
        AcceptanceRule rule = new AcceptanceRule(p, original);
        RoutingCounts current = original.copy();
        int accepted = 0;
        for (int i = 0; i < 500; i++) {
            long[][] c = new long[layers][experts];
            for (long[] row : c) for (int e = 0; e < experts; e++) row[e] = rnd.nextInt(12);
            RoutingCounts cand = RoutingCounts.of(c, 20);
            long before = current.deficit(p.target());
            AcceptanceRule.Decision d = rule.decide(current, cand);
            if (d.accepted()) {
                current.add(cand);
                accepted++;
                assertEquals(before - d.gain(), current.deficit(p.target()));
                assertTrue(d.gain() > 0);
                assertTrue(current.meanJsDivergence(original) <= p.maxCorpusDriftJs() + 1e-12);
                assertTrue(current.tokens() - original.tokens() <= 2.0 * original.tokens());
            }
        }
        assertTrue(accepted > 0, "some candidates must pass");
        assertTrue(current.deficit(p.target()) < original.deficit(p.target()));
    }
}
