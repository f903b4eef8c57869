package org.routecal.route;

import org.junit.jupiter.api.Test;
import org.routecal.model.CalibrationMode;
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
            ExpertErrorTap tap = new ExpertErrorTap(model, g, 1L << 20);
            String module = "model.layers.1.mlp.experts.3.down_proj";
            List<float[]> rows = new ArrayList<>();
            int[] inWidth = {0};
            ForwardTaps both = new ForwardTaps() {
                @Override public void linearInput(String m, int n, int in, float[] x, int[] idx, float[] w, boolean all) {
                    tap.linearInput(m, n, in, x, idx, w, all);
                    if (m.equals(module)) {
                        inWidth[0] = in;
                        for (int r = 0; r < n; r++) rows.add(java.util.Arrays.copyOfRange(x, r * in, (r + 1) * in));
                    }
                }
            };
            Random rnd = new Random(2);
            for (int batch = 0; batch < 3; batch++) {
                int[] ids = new int[20];
                for (int i = 0; i < ids.length; i++) ids[i] = rnd.nextInt(256);
                model.forward(List.of(ids), both, CalibrationMode.ROUTED, false);
            }
            assertTrue(rows.size() > 0, "expert 3 of layer 1 saw no token; pick another");
            int in = inWidth[0], out = model.config().hiddenSize();
            float[] w = model.weights().tensor(module + ".weight", out, in);
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
