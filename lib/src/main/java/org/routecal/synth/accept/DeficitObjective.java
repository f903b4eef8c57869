package org.routecal.synth.accept;

import org.routecal.route.RoutingCounts;

/**
 * {@code --objective deficit}: the greedy deficit rule ({@link AcceptanceRule}: cover slots below the target, within
 * the JS drift caps). Kept for the record and for comparisons ({@code routecal experiment}, README): on the trained
 * benchmark model it was indistinguishable from a stratified draw of the same size.
 */
public final class DeficitObjective implements SelectionObjective {
    private final AcceptanceRule rule;

    /** {@code original}: the original corpus's counts (the reference distribution of the JS caps). */
    public DeficitObjective(AcceptanceParams params, RoutingCounts original) {
        this.rule = new AcceptanceRule(params, original);
    }

    @Override public String id() { return "deficit"; }

    @Override public AcceptanceRule.Decision decide(SelectionState state, RoutingCounts candidate, String domain) {
        return rule.decide(state.counts(), candidate);
    }

    @Override public double value(SelectionState state) { return state.counts().deficit(rule.params().target()); }
}
