package org.routecal.synth.refine;

import org.routecal.route.RoutingCounts;

import java.util.List;

/**
 * When {@code refine} stops, checked before each round on the corpus as it stands, in this order:
 * {@code target_reached} (every slot's count ≥ target), {@code entropy_reached} (every layer's normalised entropy ≥
 * {@code minEntropy}, when {@code minEntropy > 0}), {@code no_progress} (the deficit did not fall in the last
 * {@code patience} rounds), {@code max_rounds}. Null means go on.
 */
public record StopRule(long target, double minEntropy, int patience, int maxRounds) {

    /** {@code deficits}: the deficit after each round so far, round 0 (the original corpus) first. */
    public String check(RoutingCounts current, List<Long> deficits, int roundsDone) {
        if (current.minCount() >= target) return "target_reached";
        if (minEntropy > 0 && current.minNormalizedEntropy() >= minEntropy) return "entropy_reached";
        if (patience > 0 && deficits.size() > patience) {
            long then = deficits.get(deficits.size() - 1 - patience), now = deficits.get(deficits.size() - 1);
            if (now >= then) return "no_progress";
        }
        if (roundsDone >= maxRounds) return "max_rounds";
        return null;
    }
}
