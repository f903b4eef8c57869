package org.routecal.synth.accept;

import org.routecal.route.RoutingCounts;

/**
 * What a greedy selection ({@code select}, {@code refine} over a pool) lowers, and the caps that keep the corpus close
 * to real use. Pure, no I/O. Contract the lazy greedy relies on: a candidate's {@code gain} never grows as the corpus
 * grows (the objective has diminishing returns), so a stale score is an upper bound.
 */
public interface SelectionObjective {
    /** The {@code --objective} name. */
    String id();

    /** The verdict on {@code candidate} (its routing counts; text of {@code domain}) added to {@code state}; modifies neither. */
    AcceptanceRule.Decision decide(SelectionState state, RoutingCounts candidate, String domain);

    /** The quantity selection lowers, for the corpus as it stands (refine's progress measure; lower is better). */
    double value(SelectionState state);
}
