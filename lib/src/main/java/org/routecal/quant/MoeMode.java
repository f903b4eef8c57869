package org.routecal.quant;

import java.util.Locale;

/**
 * Which tokens build an expert's Hessian (PIPELINE.md Stage 0). The block output always combines only the routed
 * experts, so later layers see the model's real activations in every mode.
 */
public enum MoeMode {
    /** The expert's routed tokens only. */
    ROUTED,
    /** Every token through every expert (llm-compressor's calibrate_all_experts); gate/up share one Hessian per layer. */
    ALL,
    /** Routed tokens weighted by their routing probability (MoEQuant's AGQ). */
    WEIGHTED,
    /** routed + λ·all, the all-token part scaled to the routed token mass: H_r + λ·(n_r/n_all)·H_all. */
    HYBRID;

    public static MoeMode parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown MoE mode '" + s + "' (expected routed, all, weighted or hybrid)");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
