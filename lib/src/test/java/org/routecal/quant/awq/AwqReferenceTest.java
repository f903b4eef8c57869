package org.routecal.quant.awq;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.routecal.quant.FixtureTensors;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.quant.gptq.GptqResult;
import org.routecal.quant.gptq.GptqSolver;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.ScaleDType;

/**
 * AWQ against tests/make_awq_fixtures.py, a PyTorch reproduction of llm-compressor's AWQModifier grid search with
 * compressed-tensors' quantizer, on a tiny MoE layer with outlier channels: the post-attention-norm mapping (router +
 * every expert's gate/up, loss on the MoE block output) and up_proj → down_proj mappings (routed and all-token
 * statistics), then GPTQ on the smoothed weights with llm-compressor's Hessian and with the smoothed inputs' one.
 */
class AwqReferenceTest {
    static JsonNode cases;
    static FixtureTensors t;
    static int hidden, inter, experts, topk, tokens;

    @BeforeAll
    static void load() throws IOException {
        cases = new ObjectMapper().readTree(FixtureTensors.DIR.resolve("awq/cases.json").toFile());
        t = new FixtureTensors(FixtureTensors.DIR.resolve("awq/awq.safetensors"));
        hidden = cases.get("hidden").asInt();
        inter = cases.get("inter").asInt();
        experts = cases.get("experts").asInt();
        topk = cases.get("topk").asInt();
        tokens = cases.get("tokens").asInt();
    }

    static IntScheme scheme(JsonNode c) {
        JsonNode s = c.get("scheme");
        return new IntScheme(s.get("bits").asInt(), s.get("symmetric").asBoolean(), s.get("group_size").asInt(), ScaleDType.F32);
    }

    static AwqArgs args(JsonNode c) {
        return new AwqArgs(cases.get("n_grid").asInt(), AwqArgs.DuoScaling.parse(c.get("duo").asText()));
    }

    /** Same curve (each loss within 1e-5 relative: float32 outputs there, double here), same winner, same scales. */
    static void assertMatches(String name, JsonNode c, AwqResult r) throws IOException {
        String key = name.split(" ")[0];
        JsonNode curve = c.get("curve");
        assertEquals(curve.size(), r.curve().size(), name + ": grid size");
        for (int i = 0; i < curve.size(); i++) {
            JsonNode p = curve.get(i);
            AwqResult.Point q = r.curve().get(i);
            assertEquals(p.get("ratio").asDouble(), q.ratio(), 1e-12, name + " point " + i);
            assertEquals(p.get("duo").asBoolean(), q.duo(), name + " point " + i);
            double want = p.get("loss").asDouble();
            assertEquals(want, q.loss(), 1e-5 * want, name + " loss at point " + i + " (ratio " + q.ratio() + ")");
        }
        assertEquals(c.get("best_ratio").asDouble(), r.bestRatio(), 1e-12, name + ": chosen ratio");
        assertEquals(c.get("best_duo").asBoolean(), r.bestDuo(), name + ": chosen duo");
        double[] want = t.doubles(key + ".scales");
        assertEquals(want.length, r.scales().length);
        for (int j = 0; j < want.length; j++) assertEquals(want[j], r.scales()[j], 1e-6 * Math.abs(want[j]), name + " scale " + j);
        assertTrue(r.bestLoss() <= r.initialLoss());
    }

    static float[] xMean(String name, float[] rows, int n, int cols) throws IOException {
        ActivationMean m = new ActivationMean(cols);
        m.add(rows, n, null);
        float[] ours = m.mean(), ref = t.floats(name + ".x_mean");
        for (int j = 0; j < cols; j++) assertEquals(ref[j], ours[j], 1e-6f * ref[j], name + " mean |x| of channel " + j);
        return ref; // search on the reference's own float32 statistics, so the comparison is of the search
    }

    List<AwqBalance> normBalances(IntScheme s) throws IOException {
        List<AwqBalance> b = new ArrayList<>();
        b.add(new AwqBalance("mlp.gate", t.floats("router"), experts, hidden, null)); // ignored: scaled, never quantized
        for (int e = 0; e < experts; e++) {
            b.add(new AwqBalance("experts." + e + ".gate_proj", t.floats("experts." + e + ".gate_proj"), inter, hidden, s));
            b.add(new AwqBalance("experts." + e + ".up_proj", t.floats("experts." + e + ".up_proj"), inter, hidden, s));
        }
        return b;
    }

    @Test
    void normMappingOverRouterAndEveryExpertMatchesReference() throws IOException {
        for (String name : new String[]{"norm_w4_sym_g32", "norm_w3_asym_g32_both"}) {
            JsonNode c = cases.get("cases").get(name);
            List<AwqBalance> balances = normBalances(scheme(c));
            int[] gateOf = new int[experts], upOf = new int[experts];
            List<float[]> downs = new ArrayList<>();
            for (int e = 0; e < experts; e++) {
                gateOf[e] = 1 + 2 * e;
                upOf[e] = 2 + 2 * e;
                downs.add(t.floats("experts." + e + ".down_proj"));
            }
            float[] x = t.floats("x");
            MoeBlockLoss loss = MoeBlockLoss.routed(balances, x, tokens, hidden, t.ints("topk_ids"), t.floats("topk_weights"),
                    topk, gateOf, upOf, downs, inter);
            AwqResult r = AwqSearch.search("post_attention_layernorm", xMean(name, x, tokens, hidden), balances, args(c), loss);
            assertMatches(name, c, r);
            assertTrue(r.reduction() < 0.9, name + ": AWQ should help on outlier channels, reduction " + r.reduction());
        }
    }

    @Test
    void downProjMappingMatchesReferenceWithRowsAndWithGram() throws IOException {
        for (String name : new String[]{"down_e0_routed_w3_asym_g32", "down_e1_all_w4_sym_g32_off"}) {
            JsonNode c = cases.get("cases").get(name);
            int e = c.get("mapping").asText().charAt("experts.".length()) - '0';
            float[] h = t.floats(name + ".h");
            int n = h.length / inter;
            assertEquals(c.get("tokens").asText().equals("all") ? tokens : t.ints(name + ".rows").length, n);
            List<AwqBalance> balances = List.of(new AwqBalance("experts." + e + ".down_proj", t.floats("experts." + e + ".down_proj"), hidden, inter, scheme(c)));
            float[] xm = xMean(name, h, n, inter);
            assertMatches(name, c, AwqSearch.search("experts." + e + ".up_proj", xm, balances, args(c), LinearOutputLoss.ofRows(balances, h, n, null)));
            double[] gram = new double[inter * inter];
            for (int r = 0; r < n; r++) for (int i = 0; i < inter; i++) for (int j = 0; j < inter; j++) gram[i * inter + j] += (double) h[r * inter + i] * h[r * inter + j];
            assertMatches(name + " (Gram form)", c, AwqSearch.search("experts." + e + ".up_proj", xm, balances, args(c), LinearOutputLoss.ofGram(balances, gram, n)));
        }
    }

    @Test
    void awqThenGptqMatchesReferenceWithBothHessians() throws IOException {
        String name = "down_e0_routed_w3_asym_g32";
        JsonNode c = cases.get("cases").get(name);
        IntScheme s = scheme(c);
        double[] scales = t.doubles(name + ".scales");
        float[] down = t.floats("experts.0.down_proj");
        float[] smoothed = AwqFold.scaleColumns(down, hidden, inter, scales);
        double[] raw = t.doubles(name + ".gptq_raw_hessian.hessian");
        double[] ours = AwqFold.smoothedHessian(raw, inter, scales), ref = t.doubles(name + ".gptq_smoothed_hessian.hessian");
        for (int i = 0; i < ours.length; i++) assertEquals(ref[i], ours[i], 1e-5 * Math.abs(ref[i]) + 1e-9, "S⁻¹HS⁻¹ entry " + i);
        float[] h = t.floats(name + ".h");
        int n = h.length / inter;
        double[] outputError = new double[3];
        String[] labels = {"plain", "raw_hessian", "smoothed_hessian"};
        for (int k = 0; k < 3; k++) {
            String label = labels[k];
            float[] w = k == 0 ? down : smoothed;
            GptqResult g = GptqSolver.quantize(name, s, w, hidden, inter, t.doubles(name + ".gptq_" + label + ".hessian"),
                    new GptqArgs(128, 0.01, ActOrder.STATIC), Float.NaN);
            int[] want = t.ints(name + ".gptq_" + label + ".codes"), got = g.weight().codes();
            int same = 0;
            for (int i = 0; i < want.length; i++) if (want[i] == got[i]) same++;
            assertTrue(same >= 0.999 * want.length, label + ": codes agree on " + same + "/" + want.length);
            assertArrayEquals(t.floats(name + ".gptq_" + label + ".scales"), g.weight().params().scales(), label + " scales");
            // the real output error: each weight on the inputs it gets (h, or h/s after smoothing)
            float[] q = g.weight().dequantize();
            double err = 0;
            for (int r = 0; r < n; r++) {
                for (int o = 0; o < hidden; o++) {
                    double y = 0;
                    for (int i = 0; i < inter; i++) y += ((double) w[o * inter + i] - q[o * inter + i]) * h[r * inter + i] / (k == 0 ? 1 : scales[i]);
                    err += y * y;
                }
            }
            outputError[k] = err / n;
            double refErr = c.get("gptq").get(label).get("output_error").asDouble();
            assertEquals(refErr, outputError[k], 1e-3 * refErr, label + " output error");
        }
        // GPTQ must see the inputs the smoothed weight really gets: llm-compressor's raw Hessian does worse here
        assertTrue(outputError[2] < outputError[1], "smoothed-input Hessian " + outputError[2] + " vs raw " + outputError[1]);
    }
}
