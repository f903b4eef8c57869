package org.routecal.synth.accept;

import org.routecal.route.RoutingCounts;

import java.util.LinkedHashMap;
import java.util.Map;
import org.routecal.RoutecalException;

/**
 * {@code --objective usage}: lower the expected quantization error on the model's real use, not a flat deficit.
 *
 * <p>An expert calibrated on {@code n} tokens estimates its input statistics (the GPTQ Hessian) with an error that falls
 * like {@code 1/n} once {@code n} exceeds its input width {@code d}, and is unbounded below it (a rank-deficient Hessian).
 * The proxy {@code err(n) = d / (d + n)} has both shapes: 1 at no tokens, ½ at {@code n = d}, ≈ {@code d/n} beyond.
 * What matters for the quantized model is that error weighted by how often the expert is used in real use, so the
 * objective is the expected error per routed pick on the usage corpus (its routing counts give the usage share
 * {@code u[l][e]} of expert e among layer l's picks):
 * <pre>
 *   J(n) = (1/L) Σ_l Σ_e u[l][e] · d / (d + n[l][e])          (in [0, 1]; lower is better)
 * </pre>
 * A candidate's gain is {@code J(n) − J(n + c)}; its score, the greedy order, is gain per candidate token. Since
 * {@code err} is convex and falling, gains shrink as the corpus grows (the lazy greedy's contract). The allocation it
 * converges to gives expert e about {@code √u} of the tokens rather than {@code u} (stratified "more of the same") or
 * an equal share (the deficit rule): more to rarely used experts than proportional sampling, but never at the cost of
 * the experts real use depends on.
 *
 * <p>Caps: the corpus's domain mix (tokens per domain) may drift from the usage corpus's by at most
 * {@code maxDomainDrift} in total variation (a candidate that lowers the drift is always allowed); added tokens stay
 * ≤ {@code maxAddedTokenRatio} × the original's (≤ 0: no cap). Reasons: {@code no_gain}, {@code domain_drift},
 * {@code added_tokens_cap}, {@code accepted}.
 *
 * <p>Measured ({@code routecal experiment}, README): on the trained benchmark model it reached a slightly lower J than
 * a stratified draw of the same size (0.0660 vs 0.0671) and no measurable difference in held-out ΔNLL or KL, so it is
 * not the default.
 */
public final class UsageObjective implements SelectionObjective {
    private final double[][] usage; // [layers][experts]: share of the layer's picks on the usage corpus
    private final Map<String, Double> domainMix; // domain → share of the usage corpus's tokens
    private final double width;
    private final double maxDomainDrift, maxAddedTokenRatio;

    /**
     * @param usage             routing counts of the usage corpus (real use)
     * @param usageDomainTokens its tokens per domain
     * @param width             {@code d}: tokens at which an expert's estimation error halves (its input width)
     */
    public UsageObjective(RoutingCounts usage, Map<String, Long> usageDomainTokens, long width, double maxDomainDrift, double maxAddedTokenRatio) {
        if (width <= 0) throw new RoutecalException("usage objective: width must be > 0, got " + width);
        if (!(maxDomainDrift > 0 && maxDomainDrift <= 1)) throw new RoutecalException("--max-domain-drift must be in (0, 1], got " + maxDomainDrift);
        this.usage = new double[usage.layers()][usage.experts()];
        for (int l = 0; l < usage.layers(); l++) {
            long total = usage.layerTotal(l);
            if (total == 0) throw new RoutecalException("usage objective: the usage corpus routes no tokens in layer " + l);
            for (int e = 0; e < usage.experts(); e++) this.usage[l][e] = (double) usage.get(l, e) / total;
        }
        this.domainMix = shares(usageDomainTokens);
        this.width = width;
        this.maxDomainDrift = maxDomainDrift;
        this.maxAddedTokenRatio = maxAddedTokenRatio;
    }

    @Override public String id() { return "usage"; }

    /** J(n): expected estimation error per routed pick of real use. */
    public double expectedError(RoutingCounts n) {
        check(n);
        double j = 0;
        for (int l = 0; l < usage.length; l++) for (int e = 0; e < usage[l].length; e++) j += usage[l][e] * width / (width + n.get(l, e));
        return j / usage.length;
    }

    /** J(n) − J(n + c), computed over the slots {@code c} touches. */
    public double gain(RoutingCounts n, RoutingCounts c) {
        check(n);
        check(c);
        double g = 0;
        for (int l = 0; l < usage.length; l++) {
            for (int e = 0; e < usage[l].length; e++) {
                long ce = c.get(l, e);
                if (ce == 0 || usage[l][e] == 0) continue;
                long ne = n.get(l, e);
                g += usage[l][e] * width * (1.0 / (width + ne) - 1.0 / (width + ne + ce));
            }
        }
        return g / usage.length;
    }

    @Override public AcceptanceRule.Decision decide(SelectionState state, RoutingCounts candidate, String domain) {
        double gain = gain(state.counts(), candidate);
        double score = candidate.tokens() == 0 ? 0 : gain / candidate.tokens();
        if (!(gain > 0)) return new AcceptanceRule.Decision(false, "no_gain", gain, score, Double.NaN, Double.NaN);
        Map<String, Long> after = new LinkedHashMap<>(state.domainTokens());
        after.merge(domain, candidate.tokens(), Long::sum);
        double now = drift(state.domainTokens()), then = drift(after);
        if (then > maxDomainDrift && then > now) return new AcceptanceRule.Decision(false, "domain_drift", gain, score, Double.NaN, Double.NaN);
        if (maxAddedTokenRatio > 0 && state.addedTokens() + candidate.tokens() > maxAddedTokenRatio * state.originalTokens()) {
            return new AcceptanceRule.Decision(false, "added_tokens_cap", gain, score, Double.NaN, Double.NaN);
        }
        return new AcceptanceRule.Decision(true, "accepted", gain, score, Double.NaN, Double.NaN);
    }

    @Override public double value(SelectionState state) { return expectedError(state.counts()); }

    /** Total variation distance between the domain mix of {@code domainTokens} and the usage corpus's (in [0, 1]). */
    public double drift(Map<String, Long> domainTokens) {
        Map<String, Double> mix = shares(domainTokens);
        double tv = 0;
        for (Map.Entry<String, Double> e : mix.entrySet()) tv += Math.abs(e.getValue() - domainMix.getOrDefault(e.getKey(), 0.0));
        for (Map.Entry<String, Double> e : domainMix.entrySet()) if (!mix.containsKey(e.getKey())) tv += e.getValue();
        return tv / 2;
    }

    private static Map<String, Double> shares(Map<String, Long> tokens) {
        long total = tokens.values().stream().mapToLong(Long::longValue).sum();
        Map<String, Double> out = new LinkedHashMap<>();
        if (total > 0) tokens.forEach((d, t) -> out.put(d, (double) t / total));
        return out;
    }

    private void check(RoutingCounts c) {
        if (c.layers() != usage.length || (usage.length > 0 && c.experts() != usage[0].length)) {
            throw new RoutecalException("usage objective: routing counts are " + c.layers() + "×" + c.experts() + ", the usage corpus's "
                    + usage.length + "×" + (usage.length == 0 ? 0 : usage[0].length));
        }
    }
}
