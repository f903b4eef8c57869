package org.routecal.model;

import org.routecal.compute.Ops;
import org.routecal.model.ModelWeights.Linear;
import org.routecal.model.family.MoeFamily;
import org.routecal.model.family.RouterRule;

/**
 * The feed-forward half of a decoder layer: h += ffn(post_attention_layernorm(h)), where ffn is a routed MoE block
 * (plus a shared expert where the family has one) or a dense SwiGLU MLP. The calibration mode decides which tokens
 * each expert processes for the taps; the block output always combines only the routed experts.
 */
final class FeedForwardBlock {
    private final ModelConfig config;
    private final MoeFamily.Tensors names;
    private final ModelWeights weights;
    private final Ops ops;
    private final RouterRule rule;

    FeedForwardBlock(ModelConfig config, ModelWeights weights, Ops ops) {
        this.config = config;
        this.names = config.family().tensors();
        this.weights = weights;
        this.ops = ops;
        this.rule = config.family().routerRule(config);
    }

    RouterRule routerRule() { return rule; }

    void forward(int layer, Activations act, ForwardTaps taps, CalibrationMode mode) {
        int tokens = act.tokens(), hidden = config.hiddenSize();
        float[] x = new float[tokens * hidden]; // [tokens, hidden]
        ops.rmsNorm(act.hidden, x, tokens, hidden,
                weights.tensor(MoeFamily.name(names.postAttentionNorm(), layer, 0), hidden), config.rmsNormEps());
        taps.blockInput(layer, tokens, hidden, x);
        float[] out = new float[tokens * hidden];
        if (config.isMoeLayer(layer)) {
            moe(layer, x, tokens, taps, mode, out);
        } else {
            int inter = config.intermediateSize();
            swiglu(x, tokens, allRows(tokens), onesRows(tokens), true, taps,
                    weights.linear(names.denseGate(), layer, 0, inter, hidden, false),
                    weights.linear(names.denseUp(), layer, 0, inter, hidden, false),
                    weights.linear(names.denseDown(), layer, 0, hidden, inter, false), out, null);
        }
        for (int i = 0; i < out.length; i++) act.hidden[i] += out[i];
    }

    private void moe(int layer, float[] x, int tokens, ForwardTaps taps, CalibrationMode mode, float[] out) {
        int hidden = config.hiddenSize(), experts = config.expertCount(), k = rule.topK(), inter = config.expertIntermediateSize();
        float[] logits = new float[tokens * experts]; // [tokens, experts]
        ops.matmulTransposed(x, tokens, hidden, weights.tensor(MoeFamily.name(names.router(), layer, 0), experts, hidden), experts, null, logits);
        float[] bias = names.routerScoreCorrectionBias() != null && rule.scoreCorrectionBias()
                ? weights.tensor(MoeFamily.name(names.routerScoreCorrectionBias(), layer, 0), experts) : null;
        int[] ids = new int[tokens * k];
        float[] w = new float[tokens * k];
        for (int t = 0; t < tokens; t++) Router.route(rule, logits, t * experts, experts, bias, ids, t * k, w, t * k);
        taps.routing(layer, tokens, k, ids, w, logits);

        // Group token rows by expert; weightOf[e][token] is the routing weight (0 when not routed to e).
        int[] count = new int[experts];
        for (int i = 0; i < ids.length; i++) count[ids[i]]++;
        int[][] routedRows = new int[experts][];
        float[][] routedWeight = new float[experts][];
        for (int e = 0; e < experts; e++) { routedRows[e] = new int[count[e]]; routedWeight[e] = new float[count[e]]; count[e] = 0; }
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < k; j++) {
                int e = ids[t * k + j];
                routedRows[e][count[e]] = t;
                routedWeight[e][count[e]++] = w[t * k + j];
            }
        }
        for (int e = 0; e < experts; e++) {
            Linear gate = weights.linear(names.expertGate(), layer, e, inter, hidden, false);
            Linear up = weights.linear(names.expertUp(), layer, e, inter, hidden, false);
            Linear down = weights.linear(names.expertDown(), layer, e, hidden, inter, false);
            if (mode == CalibrationMode.ALL) {
                // Every token through the expert for the taps; combine only routed rows into the output.
                float[] rowWeight = new float[tokens];
                for (int r = 0; r < routedRows[e].length; r++) rowWeight[routedRows[e][r]] = routedWeight[e][r];
                swiglu(x, tokens, allRows(tokens), rowWeight, true, taps, gate, up, down, out, rowWeight);
            } else if (routedRows[e].length > 0) {
                swiglu(x, tokens, routedRows[e], routedWeight[e], false, taps, gate, up, down, out, routedWeight[e]);
            }
        }
        if (config.family().hasSharedExpert()) sharedExpert(layer, x, tokens, taps, out);
    }

    private void sharedExpert(int layer, float[] x, int tokens, ForwardTaps taps, float[] out) {
        int hidden = config.hiddenSize(), inter = config.expertSharedIntermediateSize();
        float[] shared = new float[tokens * hidden];
        swiglu(x, tokens, allRows(tokens), onesRows(tokens), true, taps,
                weights.linear(names.sharedGate(), layer, 0, inter, hidden, false),
                weights.linear(names.sharedUp(), layer, 0, inter, hidden, false),
                weights.linear(names.sharedDown(), layer, 0, hidden, inter, false), shared, null);
        if (config.family().sharedExpert().gate() == org.routecal.model.family.SharedExpert.Gate.SIGMOID) {
            String gateName = MoeFamily.name(names.sharedExpertGate(), layer, 0);
            float[] g = weights.tensor(gateName, 1, hidden);
            AttentionBlock.tapAll(taps, x, tokens, hidden, gateName.substring(0, gateName.length() - ".weight".length()));
            for (int t = 0; t < tokens; t++) {
                float s = (float) (1.0 / (1.0 + Math.exp(-ops.dot(x, t * hidden, g, 0, hidden))));
                for (int i = 0; i < hidden; i++) shared[t * hidden + i] *= s;
            }
        }
        for (int i = 0; i < out.length; i++) out[i] += shared[i];
    }

    /**
     * down(silu(gate(x)) · up(x)) for the given token rows; adds combine[r] · result to out (combine null = weight 1).
     * Rows with combine weight 0 are computed (for the taps) but not added.
     */
    private void swiglu(float[] x, int tokens, int[] rows, float[] rowWeight, boolean allTokens, ForwardTaps taps,
                        Linear gate, Linear up, Linear down, float[] out, float[] combine) {
        int hidden = gate.in(), inter = gate.out(), n = rows.length;
        float[] xs = x;
        if (!(allTokens && n == tokens)) {
            xs = new float[n * hidden]; // [n, hidden] gathered rows
            for (int r = 0; r < n; r++) System.arraycopy(x, rows[r] * hidden, xs, r * hidden, hidden);
        }
        taps.linearInput(gate.module(), n, hidden, xs, rows, rowWeight, allTokens);
        taps.linearInput(up.module(), n, hidden, xs, rows, rowWeight, allTokens);
        float[] g = new float[n * inter], u = new float[n * inter];
        ops.matmulTransposed(xs, n, hidden, gate.w(), inter, gate.b(), g);
        ops.matmulTransposed(xs, n, hidden, up.w(), inter, up.b(), u);
        for (int i = 0; i < g.length; i++) g[i] = (float) (g[i] / (1.0 + Math.exp(-g[i]))) * u[i];
        taps.linearInput(down.module(), n, inter, g, rows, rowWeight, allTokens);
        float[] d = new float[n * hidden];
        ops.matmulTransposed(g, n, inter, down.w(), hidden, down.b(), d);
        for (int r = 0; r < n; r++) {
            float c = combine == null ? 1f : combine[r];
            if (c != 0f) ops.axpy(c, d, r * hidden, out, rows[r] * hidden, hidden);
        }
    }

    private static int[] allRows(int tokens) {
        int[] r = new int[tokens];
        for (int i = 0; i < tokens; i++) r[i] = i;
        return r;
    }

    private static float[] onesRows(int tokens) {
        float[] r = new float[tokens];
        java.util.Arrays.fill(r, 1f);
        return r;
    }
}
