package org.routecal.model;

import org.routecal.compute.Backend;
import org.routecal.compute.ExpertGroups;
import org.routecal.compute.RouterRule;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;

/**
 * The rows the routed experts compute on, exactly as the forward pass feeds them: most families give every expert its
 * token's block input x (gathered by the grouped product), Llama 4 ({@link RouterRule.WeightTarget#EXPERT_INPUT})
 * scales each routed row by its routing weight first. Every pass that re-runs experts on routed rows (the forward,
 * route's RTN-error sensitivity, evaluate's per-expert error) takes its rows from here, so none of them measures an
 * expert on inputs it never sees.
 */
public final class ExpertInputs implements AutoCloseable {
    private final Tensor rows;
    private final boolean gather;
    private final Tensor owned;

    private ExpertInputs(Tensor rows, boolean gather, Tensor owned) {
        this.rows = rows;
        this.gather = gather;
        this.owned = owned;
    }

    /** x [T, H] block input, g the routed slots grouped by expert, w [T, k] routing weights. */
    public static ExpertInputs of(Backend b, RouterRule rule, Tensor x, ExpertGroups g, Tensor w) {
        if (rule.weightTarget() != RouterRule.WeightTarget.EXPERT_INPUT) return new ExpertInputs(x, true, null);
        Tensor xs = b.allocate(TensorType.F32, g.slots(), x.cols(), "experts input");   // [T·k, H] sorted by expert
        b.gatherRows(x, g.sortedToken(), xs);
        b.scaleRows(xs, w, g.slotPos());
        return new ExpertInputs(xs, false, xs);
    }

    /** x [T, H] when {@link #gather()}, else the scaled rows [slots, H] already in slot order. */
    public Tensor rows() { return rows; }

    /** Whether the grouped product gathers {@link #rows()} by token (true) or reads them in slot order (false). */
    public boolean gather() { return gather; }

    @Override
    public void close() {
        if (owned != null) owned.close();
    }
}
