package org.routecal.route;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.compute.ExpertGroups;
import org.routecal.compute.RouterRule;
import org.routecal.compute.Tensor;
import org.routecal.model.Activations;
import org.routecal.model.ForwardTaps;
import org.routecal.model.ExpertInputs;
import org.routecal.model.ModelWeights;
import org.routecal.model.MoeModel;
import org.routecal.model.RandomModels;
import org.routecal.model.family.ModelConfig;
import org.routecal.compute.devices.Devices;
import org.routecal.model.PackedExperts;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The streamed RTN output error equals Σ‖(Ŵ − W)x‖² / Σ‖Wx‖² computed directly, in plain loops, from the same expert's
 * routed input rows collected separately (Llama 4: the rows scaled by their routing weight, as its forward feeds them);
 * experts that saw no token report NaN.
 */
class ExpertErrorTapTest {
    /** perStack: experts per ΔW stack (0: the layer in one stack, as on a GPU; 3: several stacks, the last one short). */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"qwen3_moe,0", "qwen3_moe,3", "llama4_text,0", "llama4_text,3"})
    void streamedErrorEqualsDirectComputation(String family, int perStack) throws Exception {
        java.nio.file.Path dir = RouteStageTest.fixture(family);
        org.routecal.model.family.ModelConfig c = org.routecal.model.family.ModelConfig.load(dir);
        long gateUpBytes = 2L * c.expertIntermediateSize() * c.hiddenSize() * Float.BYTES;
        try (org.routecal.compute.Backend cpu = org.routecal.model.ExpertStacksTest.limited(perStack == 0 ? Long.MAX_VALUE : perStack * gateUpBytes);
             MoeModel model = MoeModel.load(dir, cpu)) {
            RoutingGeometry g = RouteStage.geometry(model.config());
            ExpertErrorTap tap = new ExpertErrorTap(model, g);
            int hidden = model.config().hiddenSize(), inter = model.config().expertIntermediateSize();
            boolean inputScaled = model.family().routerRule(model.config()).weightTarget() == RouterRule.WeightTarget.EXPERT_INPUT;
            assertEquals(family.equals("llama4_text"), inputScaled);
            List<float[]> inputs = new ArrayList<>(); // expert 3's input rows in layer 1, as its forward feeds them
            ForwardTaps both = new ForwardTaps() {
                @Override public void routedExperts(int layer, Activations batch, ExpertGroups groups, ExpertInputs in, Tensor gateUp,
                                                    Tensor act, Tensor out) {
                    tap.accumulate(layer, groups, in, gateUp, act, out);
                }

                @Override public void routing(int layer, Activations batch, Tensor x, Tensor ids, Tensor weights, Tensor logits) {
                    if (layer != 1) return;
                    float[] xs = model.backend().download(x), ws = model.backend().download(weights);
                    int[] id = model.backend().downloadInts(ids);
                    int k = ids.cols();
                    for (int i = 0; i < id.length; i++) {
                        if (id[i] != 3) continue;
                        int t = i / k;
                        float[] row = new float[hidden];
                        for (int h = 0; h < hidden; h++) row[h] = inputScaled ? ws[i] * xs[t * hidden + h] : xs[t * hidden + h];
                        inputs.add(row);
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
            // the reference weight score of every expert, computed from the weights the tap decoded, equals the
            // separate pass's (the route reads the checkpoint once)
            assertArrayEquals(RouteStage.referenceSensitivity(model, g, org.routecal.pipeline.Progress.NONE), tap.referenceSensitivity());
            assertTrue(inputs.size() > 0, "expert 3 of layer 1 saw no token; pick another");
            ModelWeights weights = model.weights();
            float[] wg = weights.hostValues(weights.expertWeightName(1, 3, PackedExperts.Projection.GATE), inter, hidden);
            float[] wu = weights.hostValues(weights.expertWeightName(1, 3, PackedExperts.Projection.UP), inter, hidden);
            float[] wd = weights.hostValues(weights.expertWeightName(1, 3, PackedExperts.Projection.DOWN), hidden, inter);
            List<float[]> acts = new ArrayList<>(); // the down projection's input rows, in plain loops
            for (float[] x : inputs) {
                float[] a = new float[inter];
                for (int j = 0; j < inter; j++) {
                    double gg = 0, uu = 0;
                    for (int h = 0; h < hidden; h++) {
                        gg += (double) wg[j * hidden + h] * x[h];
                        uu += (double) wu[j * hidden + h] * x[h];
                    }
                    a[j] = (float) (gg / (1 + Math.exp(-gg)) * uu);
                }
                acts.add(a);
            }
            int slot = g.slot(g.ordinalOf(1), 3); // slots are indexed by MoE-layer ordinal (Llama 4: layers 1 and 3)
            // per output channel: the widths (32, 64) are not multiples of 128
            double gate = direct(wg, inter, hidden, inputs), down = direct(wd, hidden, inter, acts);
            assertEquals(gate, tap.relativeError(slot, 0), 1e-4 * gate);
            assertEquals(down, tap.relativeError(slot, 2), 1e-4 * down);
            assertTrue(tap.relativeError(slot, 2) > 0 && tap.relativeError(slot, 2) < 1);
            assertTrue(tap.expertError(slot) >= tap.relativeError(slot, 2));
            for (int s = 0; s < g.slots(); s++) {
                // no rows ⇔ NaN
                boolean none = Double.isNaN(tap.relativeError(s, 0));
                assertEquals(none, Double.isNaN(tap.expertError(s)));
            }
        }
    }

    /**
     * The reference weight score the tap computes from the weights it decodes equals the separate pass's, on experts
     * wide enough (128) for the score to exist: the route reads the checkpoint once and its expert_stats stay the same.
     */
    @Test
    void referenceSensitivityFromTheTapEqualsTheSeparatePass() throws Exception {
        ModelConfig c = ModelConfig.of(Map.ofEntries(Map.entry("model_type", "qwen3_moe"), Map.entry("vocab_size", 64),
                Map.entry("hidden_size", 128), Map.entry("num_hidden_layers", 2), Map.entry("num_attention_heads", 2),
                Map.entry("num_key_value_heads", 1), Map.entry("rope_theta", 1e6), Map.entry("max_position_embeddings", 256),
                Map.entry("intermediate_size", 256), Map.entry("num_experts", 4), Map.entry("num_experts_per_tok", 2),
                Map.entry("moe_intermediate_size", 128), Map.entry("norm_topk_prob", true)));
        try (MoeModel model = RandomModels.create(c, 11, Devices.cpu())) {
            RoutingGeometry g = RouteStage.geometry(model.config());
            ExpertErrorTap tap = new ExpertErrorTap(model, g);
            assertNull(tap.referenceSensitivity(), "no layer has gone by yet");
            model.forwardBatch(List.of(new int[]{1, 5, 9, 13, 17, 21, 25, 29}), new ForwardTaps() {
                @Override public void routedExperts(int layer, Activations batch, ExpertGroups groups, ExpertInputs in, Tensor gateUp,
                                                    Tensor act, Tensor out) {
                    tap.accumulate(layer, groups, in, gateUp, act, out);
                }
            }).close();
            tap.release();
            double[] separate = RouteStage.referenceSensitivity(model, g, org.routecal.pipeline.Progress.NONE);
            for (double v : separate) assertTrue(v > 1, "a finite max/median ratio: " + v);
            assertArrayEquals(separate, tap.referenceSensitivity());
        }
    }

    /** Σ‖(RTN(W) − W)x‖² / Σ‖Wx‖² over the rows x, W [out, in], in plain loops. */
    private static double direct(float[] w, int out, int in, List<float[]> rows) {
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
        return err / ref;
    }
}
