package org.routecal.route;

import org.junit.jupiter.api.Test;
import org.routecal.compute.Tensor;
import org.routecal.model.Activations;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The streamed RTN output error equals Σ‖(Ŵ − W)x‖² / Σ‖Wx‖² computed directly, in plain loops, from the same expert's
 * routed input rows collected separately; experts that saw no token report NaN.
 */
class ExpertErrorTapTest {
    @Test
    void streamedErrorEqualsDirectComputation() throws Exception {
        try (MoeModel model = MoeModel.load(RouteStageTest.fixture("qwen3_moe"))) {
            RoutingGeometry g = RouteStage.geometry(model.config());
            ExpertErrorTap tap = new ExpertErrorTap(model, g);
            int hidden = model.config().hiddenSize(), inter = model.config().expertIntermediateSize();
            String prefix = "model.layers.1.mlp.experts.3.";
            float[] wg = model.weights().hostValues(prefix + "gate_proj.weight", inter, hidden);
            float[] wu = model.weights().hostValues(prefix + "up_proj.weight", inter, hidden);
            float[] w = model.weights().hostValues(prefix + "down_proj.weight", hidden, inter);
            List<float[]> rows = new ArrayList<>(); // the down projection's input rows of expert 3, computed in plain loops
            ForwardTaps both = new ForwardTaps() {
                @Override public void routing(int layer, Activations batch, Tensor x, Tensor ids, Tensor weights, Tensor logits) {
                    tap.accumulate(layer, x, ids);
                    if (layer != 1) return;
                    float[] xs = model.backend().download(x);
                    int[] id = model.backend().downloadInts(ids);
                    int k = ids.cols();
                    for (int i = 0; i < id.length; i++) {
                        if (id[i] != 3) continue;
                        int t = i / k;
                        float[] a = new float[inter];
                        for (int j = 0; j < inter; j++) {
                            double gg = 0, uu = 0;
                            for (int h = 0; h < hidden; h++) {
                                gg += (double) wg[j * hidden + h] * xs[t * hidden + h];
                                uu += (double) wu[j * hidden + h] * xs[t * hidden + h];
                            }
                            a[j] = (float) (gg / (1 + Math.exp(-gg)) * uu);
                        }
                        rows.add(a);
                    }
                }
            };
            Random rnd = new Random(2);
            for (int batch = 0; batch < 3; batch++) {
                int[] ids = new int[20];
                for (int i = 0; i < ids.length; i++) ids[i] = rnd.nextInt(256);
                model.forwardBatch(List.of(ids), both).close();
            }
            tap.release();
            assertTrue(rows.size() > 0, "expert 3 of layer 1 saw no token; pick another");
            int in = inter, out = hidden;
            // per output channel: the width (32) is not a multiple of 128
            float[] q = Rtn.quantize(new IntScheme(4, true, 0, ScaleDType.BF16), w, out, in).dequantize();
            double err = 0, ref = 0;
            for (float[] x : rows) {
                for (int o = 0; o < out; o++) {
                    double dq = 0, dw = 0;
                    for (int i = 0; i < in; i++) {
                        dq += ((double) q[o * in + i] - w[o * in + i]) * x[i];
                        dw += (double) w[o * in + i] * x[i];
                    }
                    err += dq * dq;
                    ref += dw * dw;
                }
            }
            int slot = g.slot(1, 3);
            assertEquals(err / ref, tap.relativeError(slot, 2), 1e-4 * err / ref);
            assertTrue(tap.relativeError(slot, 2) > 0 && tap.relativeError(slot, 2) < 1);
            assertTrue(tap.expertError(slot) >= tap.relativeError(slot, 2));
            for (int s = 0; s < g.slots(); s++) {
                // no rows ⇔ NaN
                boolean none = Double.isNaN(tap.relativeError(s, 0));
                assertEquals(none, Double.isNaN(tap.expertError(s)));
            }
        }
    }
}
