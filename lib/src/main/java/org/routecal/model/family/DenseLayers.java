package org.routecal.model.family;

import java.util.EnumSet;
import java.util.Set;

/**
 * Which decoder layers run a dense MLP instead of an MoE block: a layer is dense when any of the family's rules says
 * so (HF's own conditions, one per config key).
 */
public record DenseLayers(Set<Rule> rules) {

    public enum Rule {
        /** listed in {@code mlp_only_layers} (Qwen) */
        MLP_ONLY_LAYERS,
        /** {@code (layer + 1) % decoder_sparse_step != 0} (Qwen) */
        DECODER_SPARSE_STEP,
        /** {@code layer < first_k_dense_replace} (DeepSeek-V3, GLM-4.5) */
        FIRST_K_DENSE_REPLACE,
        /** not in {@code moe_layers}; without that list, {@code (layer + 1) % interleave_moe_layer_step != 0} (Llama 4) */
        MOE_LAYERS
    }

    public DenseLayers {
        rules = Set.copyOf(rules);
    }

    /** Every layer is an MoE layer (Mixtral, OLMoE, GPT-OSS). */
    public static DenseLayers none() { return new DenseLayers(Set.of()); }

    public static DenseLayers when(Rule first, Rule... more) { return new DenseLayers(EnumSet.of(first, more)); }

    public boolean has(Rule r) { return rules.contains(r); }
}
