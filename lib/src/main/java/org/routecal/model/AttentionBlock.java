package org.routecal.model;

import org.routecal.compute.AttentionLayout;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.ModelWeights.Linear;
import org.routecal.model.family.MoeFamily;
import org.routecal.model.family.Attention.QkNorm;

/**
 * Pre-norm causal self-attention with GQA, q/k norms where the family has them, RoPE, and an optional KV cache:
 * h += o_proj(attention(input_layernorm(h))). Sequences of one batch attend only within themselves (no padding).
 * Written once against {@link Backend}: the same code runs on the CPU and the GPU.
 */
final class AttentionBlock {
    private final ModelConfig config;
    private final MoeFamily.Tensors names;
    private final ModelWeights weights;
    private final Backend backend;
    private final float[] invFreq;        // [rotaryDim / 2]
    private final float attentionScaling; // YaRN's cos/sin factor
    private final boolean qkvBias;

    AttentionBlock(ModelConfig config, ModelWeights weights) {
        this.config = config;
        this.names = config.family().tensors();
        this.weights = weights;
        this.backend = weights.backend();
        Rope rope = new Rope(config.rope(), config.headDim());
        this.invFreq = rope.invFreq();
        this.attentionScaling = rope.attentionScaling();
        this.qkvBias = config.qkvBias();
    }

    void forward(int layer, Activations act, ForwardTaps taps) {
        int tokens = act.tokens(), hidden = config.hiddenSize(), hd = config.headDim();
        int heads = config.headCount(), kvHeads = config.headCountKv(), qWidth = heads * hd, kvWidth = kvHeads * hd;
        float eps = config.rmsNormEps();

        Linear qProj = weights.linear(names.qProj(), layer, 0, qWidth, hidden, qkvBias);
        Linear kProj = weights.linear(names.kProj(), layer, 0, kvWidth, hidden, qkvBias);
        Linear vProj = weights.linear(names.vProj(), layer, 0, kvWidth, hidden, qkvBias);
        Linear oProj = weights.linear(names.oProj(), layer, 0, hidden, qWidth, false);
        try (Tensor x = backend.allocate(TensorType.F32, tokens, hidden, "attention input");   // [T, H]
             Tensor q = backend.allocate(TensorType.F32, tokens, qWidth, "q");                // [T, heads·hd]
             Tensor k = backend.allocate(TensorType.F32, tokens, kvWidth, "k");               // [T, kvHeads·hd]
             Tensor v = backend.allocate(TensorType.F32, tokens, kvWidth, "v");
             Tensor attn = backend.allocate(TensorType.F32, tokens, qWidth, "attention output")) {
            backend.rmsNorm(act.hidden, weights.vector(MoeFamily.name(names.inputNorm(), layer, 0), hidden), eps, x);
            taps.linearInput(layer, act, new String[]{qProj.module(), kProj.module(), vProj.module()}, x);
            backend.linear(x, qProj.w(), qProj.b(), q, false);
            backend.linear(x, kProj.w(), kProj.b(), k, false);
            backend.linear(x, vProj.w(), vProj.b(), v, false);

            QkNorm qkNorm = config.family().attention().qkNorm();
            if (qkNorm == QkNorm.PER_HEAD) {
                Tensor qh = q.reshape((long) tokens * heads, hd), kh = k.reshape((long) tokens * kvHeads, hd);
                backend.rmsNorm(qh, weights.vector(MoeFamily.name(names.qNorm(), layer, 0), hd), eps, qh);
                backend.rmsNorm(kh, weights.vector(MoeFamily.name(names.kNorm(), layer, 0), hd), eps, kh);
            } else if (qkNorm == QkNorm.WHOLE_PROJECTION) {
                backend.rmsNorm(q, weights.vector(MoeFamily.name(names.qNorm(), layer, 0), qWidth), eps, q);
                backend.rmsNorm(k, weights.vector(MoeFamily.name(names.kNorm(), layer, 0), kvWidth), eps, k);
            }
            if (config.clipQkv() > 0) {
                backend.clamp(q, config.clipQkv());
                backend.clamp(k, config.clipQkv());
                backend.clamp(v, config.clipQkv());
            }
            backend.rope(q, heads, hd, hd, act.positions, invFreq, attentionScaling);
            backend.rope(k, kvHeads, hd, hd, act.positions, invFreq, attentionScaling);

            float scale = (float) (1.0 / Math.sqrt(hd));
            if (act.caches == null) {
                backend.attention(q, k, v, act.selfAttention(heads, kvHeads, hd, scale, 0), attn);
            } else {
                attendWithCaches(layer, act, q, k, v, attn, scale);
            }
            taps.linearInput(layer, act, new String[]{oProj.module()}, attn);
            backend.linear(attn, oProj.w(), null, act.hidden, true);
        }
    }

    /** Appends this step's keys and values to each sequence's cache, then attends over the whole cache. */
    private void attendWithCaches(int layer, Activations act, Tensor q, Tensor k, Tensor v, Tensor attn, float scale) {
        int heads = config.headCount(), kvHeads = config.headCountKv(), hd = config.headDim();
        int sequences = act.sequences();
        int[] kvStart = new int[sequences + 1];
        for (int s = 0; s < sequences; s++) {
            act.caches[s].append(layer, k, v, act.sequenceStart[s], act.sequenceLength[s]);
            kvStart[s + 1] = kvStart[s] + act.caches[s].length(layer);
        }
        if (sequences == 1) {
            try (Tensor kv = backend.uploadInts(kvStart, 1, 2, "kv starts")) {
                KvCache c = act.caches[0];
                backend.attention(q, c.keys(layer), c.values(layer),
                        new AttentionLayout(heads, kvHeads, hd, scale, 0, act.qStart(), act.sequenceStart, kv, kvStart), attn);
            }
            return;
        }
        // several sequences: pack their caches into one key/value tensor for a single attention call
        try (Tensor keys = backend.allocate(TensorType.F32, kvStart[sequences], kvHeads * hd, "packed keys");
             Tensor values = backend.allocate(TensorType.F32, kvStart[sequences], kvHeads * hd, "packed values");
             Tensor kv = backend.uploadInts(kvStart, 1, sequences + 1, "kv starts")) {
            for (int s = 0; s < sequences; s++) {
                int len = kvStart[s + 1] - kvStart[s];
                backend.copyRows(act.caches[s].keys(layer), 0, keys, kvStart[s], len);
                backend.copyRows(act.caches[s].values(layer), 0, values, kvStart[s], len);
            }
            backend.attention(q, keys, values, new AttentionLayout(heads, kvHeads, hd, scale, 0, act.qStart(), act.sequenceStart,
                    kv, kvStart), attn);
        }
    }
}
