package org.routecal.eval;

import org.routecal.compute.Backend;
import org.routecal.compute.ExpertGroups;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.compute.RouterRule;
import org.routecal.model.ExpertInputs;
import org.routecal.model.ModelWeights;

/**
 * Per-expert output error: every routed expert run with the original and with the quantized weights on the same inputs
 * (the original model's block input, the rows routed to it, as the forward feeds them), accumulating Σ‖y_q − y‖² and Σ‖y‖² per expert. On the
 * backend: two grouped expert passes and a difference; only per-expert sums come back.
 */
final class ExpertError {
    private ExpertError() {}

    /**
     * Adds one batch of one MoE layer into num[e], den[e], count[e]. x [T, H] block input, ids [T, k], w [T, k] routing
     * weights (Llama 4 scales the experts' inputs by them: {@link ExpertInputs}).
     */
    static void accumulate(Backend b, RouterRule rule, ModelWeights.Experts orig, ModelWeights.Experts quant, Tensor x, Tensor ids,
                           Tensor w, int experts, double[] num, double[] den, long[] count) {
        int hidden = x.cols(), inter = orig.down().get(0).cols();
        try (ExpertGroups g = b.groupByExpert(ids, experts);
             ExpertInputs in = ExpertInputs.of(b, rule, x, g, w);
             Tensor yo = expertOut(b, orig, in, g, inter, hidden);
             Tensor yq = expertOut(b, quant, in, g, inter, hidden)) {
            int[] off = b.downloadInts(g.offsets());
            double[] ref = b.sumSquaresByGroup(yo, off, 0, hidden);
            b.axpy(-1f, yo, yq);
            double[] diff = b.sumSquaresByGroup(yq, off, 0, hidden);
            for (int e = 0; e < experts; e++) {
                num[e] += diff[e];
                den[e] += ref[e];
                count[e] += off[e + 1] - off[e];
            }
        }
    }

    private static Tensor expertOut(Backend b, ModelWeights.Experts w, ExpertInputs in, ExpertGroups g, int inter, int hidden) {
        try (Tensor gu = b.allocate(TensorType.F32, g.slots(), 2 * inter, "gate_up");
             Tensor a = b.allocate(TensorType.F32, g.slots(), inter, "act")) {
            w.gateUp(b, in.rows(), in.gather(), g, gu); // the expert math of the forward pass (biases, GPT-OSS's activation)
            w.activate(b, gu, a);
            Tensor y = b.allocate(TensorType.F32, g.slots(), hidden, "expert out");
            w.down(b, a, g, y);
            return y;
        }
    }
}
