package org.routecal.model;

import org.routecal.compute.Ops;
import org.routecal.model.ModelWeights.Linear;
import org.routecal.model.family.MoeFamily;
import org.routecal.model.family.Attention.QkNorm;

import java.util.stream.IntStream;

/**
 * Pre-norm causal self-attention with GQA, q/k norms where the family has them, RoPE, and an optional KV cache:
 * h += o_proj(attention(input_layernorm(h))). Batches of sequences of different lengths attend only within their own
 * sequence (no padding).
 */
final class AttentionBlock {
    private final ModelConfig config;
    private final MoeFamily.Tensors names;
    private final ModelWeights weights;
    private final Ops ops;
    private final Rope rope;
    private final boolean qkvBias;

    AttentionBlock(ModelConfig config, ModelWeights weights, Ops ops) {
        this.config = config;
        this.names = config.family().tensors();
        this.weights = weights;
        this.ops = ops;
        this.rope = new Rope(config.rope(), config.headDim());
        this.qkvBias = config.qkvBias();
    }

    void forward(int layer, Activations act, ForwardTaps taps) {
        int tokens = act.tokens(), hidden = config.hiddenSize(), hd = config.headDim();
        int heads = config.headCount(), kvHeads = config.headCountKv(), qWidth = heads * hd, kvWidth = kvHeads * hd;

        float[] x = new float[tokens * hidden]; // [tokens, hidden]
        ops.rmsNorm(act.hidden, x, tokens, hidden, weights.tensor(MoeFamily.name(names.inputNorm(), layer, 0), hidden), config.rmsNormEps());

        Linear qProj = weights.linear(names.qProj(), layer, 0, qWidth, hidden, qkvBias);
        Linear kProj = weights.linear(names.kProj(), layer, 0, kvWidth, hidden, qkvBias);
        Linear vProj = weights.linear(names.vProj(), layer, 0, kvWidth, hidden, qkvBias);
        tapAll(taps, x, tokens, hidden, qProj.module(), kProj.module(), vProj.module());
        float[] q = new float[tokens * qWidth], k = new float[tokens * kvWidth], v = new float[tokens * kvWidth];
        ops.matmulTransposed(x, tokens, hidden, qProj.w(), qWidth, qProj.b(), q);
        ops.matmulTransposed(x, tokens, hidden, kProj.w(), kvWidth, kProj.b(), k);
        ops.matmulTransposed(x, tokens, hidden, vProj.w(), kvWidth, vProj.b(), v);

        QkNorm qkNorm = config.family().attention().qkNorm();
        if (qkNorm == QkNorm.PER_HEAD) {
            ops.rmsNorm(q, q, tokens * heads, hd, weights.tensor(MoeFamily.name(names.qNorm(), layer, 0), hd), config.rmsNormEps());
            ops.rmsNorm(k, k, tokens * kvHeads, hd, weights.tensor(MoeFamily.name(names.kNorm(), layer, 0), hd), config.rmsNormEps());
        } else if (qkNorm == QkNorm.WHOLE_PROJECTION) {
            ops.rmsNorm(q, q, tokens, qWidth, weights.tensor(MoeFamily.name(names.qNorm(), layer, 0), qWidth), config.rmsNormEps());
            ops.rmsNorm(k, k, tokens, kvWidth, weights.tensor(MoeFamily.name(names.kNorm(), layer, 0), kvWidth), config.rmsNormEps());
        }
        if (config.clipQkv() > 0) {
            float c = config.clipQkv();
            for (float[] a : new float[][]{q, k, v}) for (int i = 0; i < a.length; i++) a[i] = Math.max(-c, Math.min(c, a[i]));
        }
        for (int t = 0; t < tokens; t++) {
            rope.apply(q, t * qWidth, heads, act.position[t]);
            rope.apply(k, t * kvWidth, kvHeads, act.position[t]);
        }

        float[] attn = new float[tokens * qWidth]; // [tokens, heads × headDim]
        int groups = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(hd));
        for (int s = 0; s < act.sequences(); s++) {
            int start = act.sequenceStart[s], len = act.sequenceLength[s];
            KvCache cache = act.caches == null ? null : act.caches[s];
            float[] keys = k, values = v;
            int keyBase = start, past = 0;
            if (cache != null) {
                past = cache.length(layer);
                cache.append(layer, k, start * kvWidth, v, start * kvWidth, len);
                keys = cache.keys(layer);
                values = cache.values(layer);
                keyBase = 0;
            }
            final float[] fk = keys, fv = values;
            final int fKeyBase = keyBase, fPast = past;
            // one task per (query position, head): causal attention over [0, past + t]
            IntStream.range(0, len * heads).parallel().forEach(task -> {
                int t = task / heads, h = task % heads, kvh = h / groups;
                int qOff = (start + t) * qWidth + h * hd;
                int visible = fPast + t + 1;
                float[] score = new float[visible];
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                    score[j] = ops.dot(q, qOff, fk, (fKeyBase + j) * kvWidth + kvh * hd, hd) * scale;
                    max = Math.max(max, score[j]);
                }
                float sum = 0f;
                for (int j = 0; j < visible; j++) { score[j] = (float) Math.exp(score[j] - max); sum += score[j]; }
                int outOff = (start + t) * qWidth + h * hd;
                for (int j = 0; j < visible; j++) {
                    ops.axpy(score[j] / sum, fv, (fKeyBase + j) * kvWidth + kvh * hd, attn, outOff, hd);
                }
            });
        }

        Linear oProj = weights.linear(names.oProj(), layer, 0, hidden, qWidth, false);
        tapAll(taps, attn, tokens, qWidth, oProj.module());
        float[] o = new float[tokens * hidden];
        ops.matmulTransposed(attn, tokens, qWidth, oProj.w(), hidden, null, o);
        for (int i = 0; i < o.length; i++) act.hidden[i] += o[i];
    }

    /** Tap for modules that see every token with weight 1. */
    static void tapAll(ForwardTaps taps, float[] x, int rows, int in, String... modules) {
        if (taps == ForwardTaps.NONE) return;
        int[] index = new int[rows];
        float[] ones = new float[rows];
        for (int r = 0; r < rows; r++) { index[r] = r; ones[r] = 1f; }
        for (String m : modules) taps.linearInput(m, rows, in, x, index, ones, true);
    }
}
