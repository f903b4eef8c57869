package org.routecal.eval;

import org.routecal.model.ModelWeights;
import org.routecal.model.family.MoeFamily;

/**
 * Per-expert output error: the expert run with the original and with the quantized weights on the same inputs (the
 * original model's block input, rows routed to it), accumulating Σ‖y_q − y‖² and Σ‖y‖².
 */
final class ExpertError {
    private ExpertError() {}

    /** Adds this batch's sums into num[e], den[e], count[e]. */
    static void accumulate(ModelWeights orig, ModelWeights quant, MoeFamily.Tensors names, int layer, int experts, int hidden,
                           int inter, float[] x, int[] topk, int tokens, int k, double[] num, double[] den, long[] count) {
        for (int e = 0; e < experts; e++) {
            int n = 0;
            for (int i = 0; i < tokens * k; i++) if (topk[i] == e) n++;
            if (n == 0) continue;
            float[] xs = new float[n * hidden]; // [n, hidden] routed rows
            int r = 0;
            for (int i = 0; i < tokens * k; i++) if (topk[i] == e) System.arraycopy(x, (i / k) * hidden, xs, r++ * hidden, hidden);
            float[] yo = expert(orig, names, layer, e, hidden, inter, xs, n);
            float[] yq = expert(quant, names, layer, e, hidden, inter, xs, n);
            for (int i = 0; i < yo.length; i++) {
                double d = yq[i] - yo[i];
                num[e] += d * d;
                den[e] += (double) yo[i] * yo[i];
            }
            count[e] += n;
        }
    }

    static float[] expert(ModelWeights w, MoeFamily.Tensors names, int layer, int e, int hidden, int inter, float[] x, int n) {
        float[] g = matmulT(x, n, hidden, w.tensor(MoeFamily.name(names.expertGate(), layer, e) + ".weight", inter, hidden), inter);
        float[] u = matmulT(x, n, hidden, w.tensor(MoeFamily.name(names.expertUp(), layer, e) + ".weight", inter, hidden), inter);
        for (int i = 0; i < g.length; i++) g[i] = (float) (g[i] / (1.0 + Math.exp(-g[i]))) * u[i];
        return matmulT(g, n, inter, w.tensor(MoeFamily.name(names.expertDown(), layer, e) + ".weight", hidden, inter), hidden);
    }

    /** x [n, in] · wᵀ, w [out, in] → [n, out]. */
    static float[] matmulT(float[] x, int n, int in, float[] w, int out) {
        float[] y = new float[n * out];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < out; o++) {
                float s = 0;
                for (int i = 0; i < in; i++) s += x[r * in + i] * w[o * in + i];
                y[r * out + o] = s;
            }
        }
        return y;
    }
}
