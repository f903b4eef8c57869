package org.routecal.quant;

import java.util.List;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.ModelWeights;
import org.routecal.model.MoeModel;
import org.routecal.quant.parallel.OrderedSum;

/**
 * One device's share of a layer's expert Hessians under {@code --devices}: built from the calibration rows this device
 * ran (its {@link LayerCalibration}'s block input and routing) the way {@link LayerQuantizer} builds them from every
 * row on one device — per expert its routed gate/up part (row weights as its plan says), its routed down part (inputs
 * through the expert's ORIGINAL gate/up), its down part over all tokens, and the layer's all-token block-input
 * Hessian. Each part is downloaded and handed to an {@link OrderedSum}, which adds the devices' parts in device order;
 * the sums equal the one-device Hessians up to the order of additions.
 */
final class PartialHessians {
    private PartialHessians() {}

    /** Which Hessian part of which expert (expert −1: the layer's block input). */
    enum Part { ROUTED_IN, ROUTED_DOWN, ALL_DOWN, BLOCK_INPUT }

    record Key(int expert, Part part) {}

    static final Key BLOCK_INPUT = new Key(-1, Part.BLOCK_INPUT);

    /**
     * Delivers this device's parts for the experts of {@code global} (the plans from every device's routing, which say
     * which parts an expert uses) to {@code sums}; {@code local} are the same experts' plans from this device's rows
     * alone (their row indices point into this device's block input).
     */
    static void deliver(MoeModel replica, int layer, LayerQuantizer lq, LayerCalibration cal, List<LayerQuantizer.ExpertPlan> global,
                        List<LayerQuantizer.ExpertPlan> local, int device, OrderedSum<Key> sums) {
        Backend b = replica.backend();
        int hidden = replica.config().hiddenSize(), inter = replica.config().expertIntermediateSize();
        ModelWeights.Experts experts = cal.blockInput == null ? null
                : replica.weights().experts(replica.family().tensors(), layer, replica.config().expertCount(), inter, hidden);
        for (int i = 0; i < global.size(); i++) {
            LayerQuantizer.ExpertPlan g = global.get(i), l = local.get(i);
            if (g.expert() != l.expert()) throw new IllegalStateException("plans out of step: expert " + g.expert() + " vs " + l.expert());
            int e = g.expert();
            if (g.useRouted()) {
                Key in = new Key(e, Part.ROUTED_IN), down = new Key(e, Part.ROUTED_DOWN);
                if (l.routed() == 0) {
                    sums.skip(in, device);
                    sums.skip(down, device);
                } else {
                    double[][] parts = routed(b, lq, cal, experts, l, g.weighted(), hidden, inter);
                    sums.add(in, device, parts[0]);
                    sums.add(down, device, parts[1]);
                }
            }
            if (g.useAll()) {
                Key k = new Key(e, Part.ALL_DOWN);
                if (cal.blockInput == null) {
                    sums.skip(k, device);
                } else {
                    try (Tensor a = experts.activation(b, e, cal.blockInput);
                         Tensor h = b.allocate(b.hessianType(), inter, inter, "H down all (partial)")) {
                        b.gram(a, null, null, new int[]{0, cal.blockInput.rowCount()}, h, 1f);
                        sums.add(k, device, b.downloadDoubles(h));
                    }
                }
            }
        }
    }

    /** This device's part of the all-token block-input Hessian (the router's, and every expert's "all" gate/up part). */
    static void deliverBlockInput(Backend b, LayerCalibration cal, int device, OrderedSum<Key> sums) {
        if (cal.blockInput == null) {
            sums.skip(BLOCK_INPUT, device);
            return;
        }
        int cols = cal.blockInput.cols();
        try (Tensor h = b.allocate(b.hessianType(), cols, cols, "H block input (partial)")) {
            b.gram(cal.blockInput, null, null, new int[]{0, cal.blockInput.rowCount()}, h, 1f);
            sums.add(BLOCK_INPUT, device, b.downloadDoubles(h));
        }
    }

    /** The routed gate/up [H, H] and down [I, I] parts over this device's rows of the expert, as LayerQuantizer weights them. */
    private static double[][] routed(Backend b, LayerQuantizer lq, LayerCalibration cal, ModelWeights.Experts experts, LayerQuantizer.ExpertPlan l,
                                     boolean weighted, int hidden, int inter) {
        int n = l.routed();
        float[] inW = lq.inputHessianWeights(l.weights(), weighted);
        try (Tensor idx = b.uploadInts(l.rows(), 1, n, "expert rows");
             Tensor wt = weighted ? b.upload(l.weights(), 1, n, TensorType.F32, "expert weights") : null;
             Tensor wIn = inW == null ? null : b.upload(inW, 1, n, TensorType.F32, "expert input row weights");
             Tensor hR = b.allocate(b.hessianType(), hidden, hidden, "H routed (partial)");
             Tensor x = b.allocate(TensorType.F32, n, hidden, "expert rows");
             Tensor hD = b.allocate(b.hessianType(), inter, inter, "H down routed (partial)")) {
            b.gram(cal.blockInput, idx, wIn, new int[]{0, n}, hR, 1f);
            b.gatherRows(cal.blockInput, idx, x);
            if (lq.inputScaled()) {
                try (Tensor s = b.upload(l.weights(), 1, n, TensorType.F32, "routing weights")) {
                    b.scaleRows(x, s, null);
                }
            }
            try (Tensor a = experts.activation(b, l.expert(), x)) {
                b.gram(a, null, wt, new int[]{0, n}, hD, 1f);
            }
            return new double[][]{b.downloadDoubles(hR), b.downloadDoubles(hD)};
        }
    }
}
