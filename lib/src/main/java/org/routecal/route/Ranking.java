package org.routecal.route;

/** How slots are ranked into sets: over all (layer, expert) slots at once (the reference), or within each layer. */
public enum Ranking {
    /** One ranking over every slot of every layer, as the reference's step 3/4 ({@code full_grid_*}). */
    GLOBAL,
    /** A separate ranking inside each MoE layer, so every layer contributes the same share of slots to each set. */
    PER_LAYER
}
