package org.routecal.synth.select;

import java.util.Arrays;
import java.util.Locale;
import org.routecal.RoutecalException;

/**
 * How {@code select} and {@code refine} choose the text they add ({@code --objective}). The default is what the
 * trained-model experiment could not beat ({@code routecal experiment}; README "Does the loop pay?"); the others are
 * kept so the comparison can be re-run on other models.
 */
public enum Objective {
    /** Random pool texts in the original corpus's domain mix ("more of the same"). */
    STRATIFIED("stratified", "random pool texts drawn in the original corpus's domain mix (more of the same)"),
    /** Greedy on the usage-weighted expected estimation error ({@link org.routecal.synth.accept.UsageObjective}). */
    USAGE("usage", "greedy on the expected quantization error of real use (each expert's error ~ d/(d+n) weighted by its usage share), domain mix capped"),
    /** The greedy deficit rule ({@link org.routecal.synth.accept.DeficitObjective}). */
    DEFICIT("deficit", "greedy on the per-slot deficit below --target, within the JS drift caps (the earlier rule)"),
    /** Text the model generates itself, steered toward under-used experts ({@link SelfSampler}). */
    SELF_SAMPLE("self-sample", "the model generates its own text, each token chosen among the likeliest by routing lookahead toward under-used experts (MoEQuant-style)");

    /**
     * What {@code --objective} defaults to: "more of the same". On the trained benchmark model no objective beat it at
     * equal budget (every paired 95 % interval of mean and worst-domain ΔNLL against it spans zero, W4 and W3, routed
     * and hybrid; README "Does the loop pay?"), and it is the cheapest (only the drawn texts are routed).
     */
    public static final Objective DEFAULT = STRATIFIED;

    private final String id, description;

    Objective(String id, String description) {
        this.id = id;
        this.description = description;
    }

    public String id() { return id; }

    public String description() { return description; }

    public static Objective parse(String s) {
        for (Objective o : values()) if (o.id.equals(s.toLowerCase(Locale.ROOT))) return o;
        throw new RoutecalException("--objective must be one of " + Arrays.stream(values()).map(Objective::id).toList() + ", got '" + s + "'");
    }
}
