package org.routecal.synth.refine;

import org.routecal.route.RoutingCounts;

import java.util.List;

/**
 * When {@code refine} stops, checked before each round on the corpus as it stands, in this order:
 * {@code target_reached} (every slot's count ≥ target), {@code entropy_reached} (every layer's normalised entropy ≥
 * {@code minEntropy}, when {@code minEntropy > 0}), {@code no_progress} (the objective — the deficit, or the selection
 * objective's value — did not fall in the last {@code patience} rounds), {@code max_rounds}. Null means go on. (A round
 * that adds nothing from a pool ends the loop at once with {@code no_gain}: the next round would see the same pool and
 * corpus; {@link RefineStage} says so.)
 */
public record StopRule(long target, double minEntropy, int patience, int maxRounds) {

    /** {@code values}: the objective after each round so far (lower is better), round 0 (the original corpus) first. */
    public String check(RoutingCounts current, List<? extends Number> values, int roundsDone) {
        if (current.minCount() >= target) return "target_reached";
        if (minEntropy > 0 && current.minNormalizedEntropy() >= minEntropy) return "entropy_reached";
        if (patience > 0 && values.size() > patience) {
            double then = values.get(values.size() - 1 - patience).doubleValue(), now = values.get(values.size() - 1).doubleValue();
            if (now >= then) return "no_progress";
        }
        if (roundsDone >= maxRounds) return "max_rounds";
        return null;
    }
}
