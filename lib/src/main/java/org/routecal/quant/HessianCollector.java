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
        if (h == null) h = new double[n * n];
        // Tokens are taken CHUNK at a time and transposed, so each H entry is read and written once per chunk
        // (a dot product of two contiguous columns) instead of once per token: the per-token rank-1 update streams
        // the whole n² matrix through memory for every token and is bandwidth-bound.
        final int chunk = 64;
        double[] xt = new double[n * chunk]; // [n, chunk] selected rows, transposed, scaled by √c on both sides
        int[] sel = new int[chunk];
        for (int r0 = 0; r0 < rows; ) {
            int m = 0;
            double[] scale = new double[chunk];
            for (; r0 < rows && m < chunk; r0++) {
                double c = 1;
                if (w != null) {
                    if (!(w[r0] > 0f)) continue;
                    if (weighted) c = w[r0];
                }
                sel[m] = r0;
                scale[m++] = Math.sqrt(c);
            }
            if (m == 0) break;
            for (int k = 0; k < m; k++) {
                int xb = sel[k] * n;
                for (int a = 0; a < n; a++) xt[a * chunk + k] = scale[k] * x[xb + a];
            }
            if (m < chunk) for (int a = 0; a < n; a++) java.util.Arrays.fill(xt, a * chunk + m, a * chunk + chunk, 0.0);
            for (int a = 0; a < n; a++) {
                int ab = a * chunk, hb = a * n;
                for (int b = a; b < n; b++) {
                    int bb = b * chunk;
                    double s = 0;
                    for (int k = 0; k < chunk; k++) s += xt[ab + k] * xt[bb + k];
                    h[hb + b] += s;
                }
            }
        }
        return h;
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
