package org.routecal.route;

import java.util.List;
import java.util.stream.IntStream;
import org.routecal.compute.Backend;
import org.routecal.compute.ExpertGroups;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.ExpertInputs;
import org.routecal.model.ExpertStacks;
import org.routecal.model.MoeModel;
import org.routecal.model.PackedExperts;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

/**
 * Hessian-aware sensitivity: the relative output error of RTN W4 g128 (quant/'s own RTN) on each expert projection,
 * measured on the expert's own routed inputs as they stream by: {@code Σ‖(Ŵ − W)x‖² / Σ‖Wx‖²} over the rows the
 * expert received. That is {@code tr(ΔW H ΔWᵀ) / tr(W H Wᵀ)} with H = Σ x xᵀ without ever forming H. On the backend:
 * the forward's own expert outputs give Wx, and the routed rows go through grouped products with ΔW only (one extra
 * expert pass's worth of work); only per-expert sums of squares come back. ΔW of the current layer is built once per
 * layer (the pass is layer-major).
 */
final class ExpertErrorTap {
    static final String[] PROJ = {"gate_proj", "up_proj", "down_proj"};

    private final MoeModel model;
    private final RoutingGeometry geometry;
    private final double[] err, ref;   // [slots · 3] gate, up, down
    private final long[] rows;         // [slots · 3]
    private final double[] sensitivity;  // [slots] the reference weight-outlier score, filled as layers pass
    private final boolean[] scored;      // [MoE layers] whose experts have their score
    private int deltaLayer = -1;
    private Tensor[] deltaGateUp, deltaDown;     // stacks of [2I, H] and [H, I] per expert, in the model's linear type
    private List<Tensor> gateUpViews, downViews; // one view per expert

    ExpertErrorTap(MoeModel model, RoutingGeometry geometry) {
        this.model = model;
        this.geometry = geometry;
        err = new double[geometry.slots() * 3];
        ref = new double[err.length];
        rows = new long[err.length];
        sensitivity = new double[geometry.slots()];
        scored = new boolean[geometry.layers()];
    }

    /**
     * The reference weight sensitivity of every expert ({@link RouteStage#referenceSensitivity}'s values), computed
     * from the weights this tap decoded anyway; null unless every MoE layer went by.
     */
    double[] referenceSensitivity() {
        for (boolean s : scored) if (!s) return null;
        return sensitivity;
    }

    /**
     * One batch's routed experts of {@code layer} as the forward ran them ({@link org.routecal.model.ForwardTaps#routedExperts}):
     * only the two products with ΔW are computed here; W x and the activation come from the forward pass.
     */
    void accumulate(int layer, ExpertGroups g, ExpertInputs in, Tensor gu, Tensor a, Tensor d) {
        Backend b = model.backend();
        ModelConfig c = model.config();
        int l = geometry.ordinalOf(layer), experts = geometry.experts();
        int hidden = c.hiddenSize(), inter = c.expertIntermediateSize();
        ensureDelta(layer, experts, inter, hidden);
        try (Tensor dgu = b.allocate(TensorType.F32, g.slots(), 2 * inter, "Δgate_up");
             Tensor dd = b.allocate(TensorType.F32, g.slots(), hidden, "Δdown")) {
            b.groupedLinear(in.rows(), in.gather(), g, gateUpViews, dgu);
            b.groupedLinear(a, false, g, downViews, dd);
            int[] off = b.downloadInts(g.offsets());
            add(l, 0, off, b.sumSquaresByGroup(dgu, off, 0, inter), b.sumSquaresByGroup(gu, off, 0, inter));
            add(l, 1, off, b.sumSquaresByGroup(dgu, off, inter, 2 * inter), b.sumSquaresByGroup(gu, off, inter, 2 * inter));
            add(l, 2, off, b.sumSquaresByGroup(dd, off, 0, hidden), b.sumSquaresByGroup(d, off, 0, hidden));
        }
    }

    private void add(int l, int proj, int[] off, double[] e, double[] r) {
        for (int x = 0; x < e.length; x++) {
            int i = geometry.slot(l, x) * 3 + proj;
            err[i] += e[x];
            ref[i] += r[x];
            rows[i] += off[x + 1] - off[x];
        }
    }

    /**
     * ΔW = RTN(W) − W of every expert of {@code layer}, stacked as the model's expert weights are ({@link ExpertStacks}).
     * Experts are decoded and rounded in parallel a batch at a time (at most a stack's experts and 512 MB of host
     * floats, not the layer's 15 GB at GLM-4.5 geometry), then written.
     */
    private void ensureDelta(int layer, int experts, int inter, int hidden) {
        if (layer == deltaLayer) return;
        release();
        Backend b = model.backend();
        TensorType type = model.weights().linearType();
        ExpertStacks gu = ExpertStacks.of(b, type, experts, 2L * inter, hidden), dn = ExpertStacks.of(b, type, experts, hidden, inter);
        deltaGateUp = gu.allocate(b, type, "layer " + layer + " RTN Δgate_up %d-%d");
        deltaDown = dn.allocate(b, type, "layer " + layer + " RTN Δdown %d-%d");
        int l = geometry.ordinalOf(layer);
        boolean score = !scored[l], parallelWrites = b.concurrentHostWrites();
        int batch = (int) Math.max(1, Math.min(gu.perStack(), HOST_BATCH_BYTES / (3L * inter * hidden * Float.BYTES)));
        float[][] gate = new float[batch][], up = new float[batch][], down = new float[batch][];
        for (int e0 = 0; e0 < experts; e0 += batch) {
            int from = e0, n = Math.min(batch, experts - e0);
            IntStream.range(0, n).parallel().forEach(i -> {
                int e = from + i;
                var w = model.weights(); // per-expert names of either layout (a packed family's are slices of its 3-D tensors)
                float[] wg = w.hostValues(w.expertWeightName(layer, e, PackedExperts.Projection.GATE), inter, hidden);
                float[] wu = w.hostValues(w.expertWeightName(layer, e, PackedExperts.Projection.UP), inter, hidden);
                float[] wd = w.hostValues(w.expertWeightName(layer, e, PackedExperts.Projection.DOWN), hidden, inter);
                gate[i] = rtnError(wg, inter, hidden);
                up[i] = rtnError(wu, inter, hidden);
                down[i] = rtnError(wd, hidden, inter);
                if (score) { // the reference weight-outlier score from the same decoded weights: the checkpoint is read once
                    sensitivity[geometry.slot(l, e)] = RouteStage.expertSensitivity(wg, wu, wd, inter, hidden);
                }
                // the CPU takes each expert's rows from here (written serially after the batch, their bf16 rounding was a
                // fifth of the profile of a GLM-4.5-sized layer's route)
                if (parallelWrites) {
                    write(b, gu, dn, e, gate[i], up[i], down[i], inter);
                    gate[i] = up[i] = down[i] = null;
                }
            });
            if (parallelWrites) continue;
            for (int i = 0; i < n; i++) write(b, gu, dn, from + i, gate[i], up[i], down[i], inter);
        }
        scored[l] = true;
        for (int s = 0; s < deltaGateUp.length; s++) deltaGateUp[s] = b.prepareLinearWeights(deltaGateUp[s], 2 * inter); // multiplied like the model's experts (CPU: panels)
        for (int s = 0; s < deltaDown.length; s++) deltaDown[s] = b.prepareLinearWeights(deltaDown[s], hidden);
        gateUpViews = gu.views(deltaGateUp);
        downViews = dn.views(deltaDown);
        deltaLayer = layer;
    }

    private void write(Backend b, ExpertStacks gu, ExpertStacks dn, int e, float[] gate, float[] up, float[] down, int inter) {
        b.write(deltaGateUp[gu.stackOf(e)], gu.rowIn(e), gate);
        b.write(deltaGateUp[gu.stackOf(e)], gu.rowIn(e) + inter, up);
        b.write(deltaDown[dn.stackOf(e)], dn.rowIn(e), down);
    }

    /** Host floats of decoded and rounded experts held at once while a layer's ΔW is built. */
    private static final long HOST_BATCH_BYTES = 512L << 20;

    /** Frees the current layer's ΔW. */
    void release() {
        for (Tensor[] stacks : new Tensor[][]{deltaGateUp, deltaDown}) if (stacks != null) for (Tensor t : stacks) t.close();
        deltaGateUp = deltaDown = null;
        gateUpViews = downViews = null;
        deltaLayer = -1;
    }

    /**
     * Ŵ − W for RTN W4 symmetric with our quantizer ({@link Rtn}, compressed-tensors grid: scale = absmax / 7.5, scales
     * rounded to bf16) in groups of 128 input columns; per output channel when the width is not a multiple of 128.
     */
    static float[] rtnError(float[] w, int rows, int cols) {
        int group = cols % ReferenceSensitivity.GROUP == 0 ? ReferenceSensitivity.GROUP : 0;
        return Rtn.error(new IntScheme(4, true, group, ScaleDType.BF16), w, rows, cols);
    }

    /** Relative RTN output error of one projection (0 gate, 1 up, 2 down); NaN if the expert saw no token. */
    double relativeError(int slot, int proj) {
        int i = slot * 3 + proj;
        return rows[i] == 0 || ref[i] == 0 ? Double.NaN : err[i] / ref[i];
    }

    /** The expert's score: the largest relative error over its three projections (NaN if it saw no token). */
    double expertError(int slot) {
        double best = Double.NaN;
        for (int p = 0; p < 3; p++) {
            double v = relativeError(slot, p);
            if (!Double.isNaN(v) && (Double.isNaN(best) || v > best)) best = v;
        }
        return best;
    }
}
