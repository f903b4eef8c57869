package org.routecal.synth.accept;

import org.routecal.route.RoutingCounts;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The calibration corpus as selection grows it: the routing counts of original + accepted texts, tokens per domain,
 * and how many tokens were added to the original. Mutable only through {@link #add}.
 */
public final class SelectionState {
    private final RoutingCounts counts;
    private final Map<String, Long> domainTokens;
    private final long originalTokens;
    private long addedTokens;

    private SelectionState(RoutingCounts counts, Map<String, Long> domainTokens, long originalTokens, long addedTokens) {
        this.counts = counts;
        this.domainTokens = domainTokens;
        this.originalTokens = originalTokens;
        this.addedTokens = addedTokens;
    }

    /** The original corpus: its counts and its tokens per domain (copied). */
    public static SelectionState original(RoutingCounts counts, Map<String, Long> domainTokens) {
        return new SelectionState(counts.copy(), new LinkedHashMap<>(domainTokens), counts.tokens(), 0);
    }

    public SelectionState copy() {
        return new SelectionState(counts.copy(), new LinkedHashMap<>(domainTokens), originalTokens, addedTokens);
    }

    /** Adds a text routed into {@code candidate} of {@code domain}. */
    public void add(RoutingCounts candidate, String domain) {
        counts.add(candidate);
        domainTokens.merge(domain, candidate.tokens(), Long::sum);
        addedTokens += candidate.tokens();
    }

    /** Counts of original + accepted (do not modify). */
    public RoutingCounts counts() { return counts; }

    public Map<String, Long> domainTokens() { return java.util.Collections.unmodifiableMap(domainTokens); }

    public long originalTokens() { return originalTokens; }

    public long addedTokens() { return addedTokens; }
}
