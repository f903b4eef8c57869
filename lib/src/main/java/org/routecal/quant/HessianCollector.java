package org.routecal.quant;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.routecal.model.ForwardTaps;

/**
 * Accumulates the Hessians (XᵀX of module inputs) of one decoder layer from the forward taps. One accumulator per
 * Hessian key (modules reading the same input share it). Expert modules keep their routed, routing-weighted and
 * all-token parts separately as the mode needs; the all-token input of every expert's gate/up is the block input,
 * so it is accumulated once per layer ({@link #blockAll}), never per expert.
 */
final class HessianCollector implements ForwardTaps {
    /** Sums for one Hessian key; matrices [cols, cols] upper triangle until {@link #finish}. */
    static final class Acc {
        final int cols;
        double[] routed, weighted, all;
        long routedRows, allRows;

        Acc(int cols) {
            this.cols = cols;
        }
    }

    private final int layer;
    private final Map<String, LinearModules.Module> keys; // Hessian key → its (first) module
    private final boolean wantRouted, wantWeighted, wantAll;
    final Map<String, Acc> accs = new HashMap<>();
    /** All-token Hessian of the block input (gate/up of every expert in all/hybrid mode, and the router). */
    Acc blockAll;
    private final boolean wantBlockAll;

    HessianCollector(int layer, Map<String, LinearModules.Module> keys, MoeMode mode, boolean fallbackToAll, boolean needBlockAll) {
        this.layer = layer;
        this.keys = keys;
        this.wantRouted = mode == MoeMode.ROUTED || mode == MoeMode.HYBRID;
        this.wantWeighted = mode == MoeMode.WEIGHTED;
        this.wantAll = mode == MoeMode.ALL || mode == MoeMode.HYBRID || fallbackToAll;
        this.wantBlockAll = needBlockAll;
    }

    /** True when the forward pass must send every token through every expert. */
    static boolean needsAllTokens(MoeMode mode, boolean fallbackToAll) {
        return mode == MoeMode.ALL || mode == MoeMode.HYBRID || fallbackToAll;
    }

    @Override
    public void blockInput(int layer, int tokens, int hidden, float[] x) {
        if (layer != this.layer || !wantBlockAll) return;
        if (blockAll == null) blockAll = new Acc(hidden);
        blockAll.all = accumulate(blockAll.all, hidden, x, tokens, null, false);
        blockAll.allRows += tokens;
    }

    @Override
    public void linearInput(String module, int rows, int inFeatures, float[] x, int[] tokenIndex, float[] rowWeight,
                            boolean allTokens) {
        LinearModules.Module m = keys.get(module);
        if (m == null) return; // not a Hessian key we need (ignored, or shares its input with an earlier module)
        Acc a = accs.computeIfAbsent(module, k -> new Acc(inFeatures));
        boolean expert = m.role() == LinearModules.Role.EXPERT_IN || m.role() == LinearModules.Role.EXPERT_DOWN;
        if (!expert) {
            a.all = accumulate(a.all, inFeatures, x, rows, null, false);
            a.allRows += rows;
            return;
        }
        // routed rows: all rows in ROUTED forward mode; rows with a routing weight in ALL mode
        int routed = 0;
        for (int r = 0; r < rows; r++) if (!allTokens || rowWeight[r] > 0f) routed++;
        a.routedRows += routed;
        if (wantRouted) a.routed = accumulate(a.routed, inFeatures, x, rows, allTokens ? rowWeight : null, false);
        if (wantWeighted) a.weighted = accumulate(a.weighted, inFeatures, x, rows, rowWeight, true);
        if (allTokens) {
            a.allRows += rows;
            // gate/up's all-token input is the block input, accumulated once in blockAll
            if (wantAll && m.role() == LinearModules.Role.EXPERT_DOWN) a.all = accumulate(a.all, inFeatures, x, rows, null, false);
        }
    }

    /**
     * h += Σ_r c_r·x_rᵀx_r over rows (upper triangle). {@code w} null: c = 1. With {@code weighted} c = w_r;
     * otherwise w only selects rows (w_r > 0).
     */
    static double[] accumulate(double[] h, int n, float[] x, int rows, float[] w, boolean weighted) {
        return org.routecal.compute.cpu.GramKernels.accumulate(h, n, x, 0, rows, w, weighted);
    }

    /** Mirrors the upper triangle into the lower one. */
    static double[] finish(double[] h, int n) {
        if (h == null) return null;
        for (int a = 0; a < n; a++) for (int b = 0; b < a; b++) h[a * n + b] = h[b * n + a];
        return h;
    }

    Set<String> keys() {
        return keys.keySet();
    }
}
