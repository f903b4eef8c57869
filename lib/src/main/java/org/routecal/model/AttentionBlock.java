package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import org.routecal.compute.AttentionLayout;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.ModelWeights.Linear;
import org.routecal.model.family.Attention.QkNorm;
import org.routecal.model.family.MoeFamily;

/**
 * Pre-norm causal self-attention: h += o_proj(attention(q, k, v)) with q, k, v projected from input_layernorm(h) by
 * the family's attention kind — GQA ({@link #projectGqa}: q/k/v projections with their biases, q/k norms, clip_qkv,
 * RoPE on the layer's rotary dimensions, Llama 4's L2 norm and NoPE temperature) or DeepSeek's multi-head latent
 * attention ({@link LatentProjection}). The attention itself is one op for every family: the layer's span (full,
 * sliding window, chunk), GPT-OSS's sinks, and an optional KV cache. Sequences of one batch attend only within
 * themselves (no padding). Written once against {@link Backend}: the same code runs on the CPU and the GPU.
 */
final class AttentionBlock {
    private final ModelConfig config;
    private final MoeFamily.Tensors names;
    private final ModelWeights weights;
    private final Backend backend;
    private final Rope rope;               // frequencies over the rotated width
    private final float[] invFreq;         // [rotaryDim / 2], one instance (the CUDA backend caches it by identity)
    private final boolean interleaved;     // RoPE pairs (x[2i], x[2i+1])
    private final LatentProjection latent; // null unless MLA

    /** q [T, heads·headDim], k [T, kvHeads·headDim], v [T, kvHeads·valueHeadDim], ready for the attention op. */
    record Projected(Tensor q, Tensor k, Tensor v) implements AutoCloseable {
        @Override
        public void close() {
            q.close();
            k.close();
            v.close();
        }
    }

    AttentionBlock(ModelConfig config, ModelWeights weights) {
        this.config = config;
        this.names = config.family().tensors();
        this.weights = weights;
        this.backend = weights.backend();
        this.rope = new Rope(config.rope(), config.rotaryDim());
        this.invFreq = rope.invFreq();
        this.interleaved = config.ropeInterleaved();
        this.latent = config.mla() != null ? new LatentProjection(config, weights, this) : null;
    }

    void forward(int layer, Activations act, ForwardTaps taps) {
        int tokens = act.tokens(), hidden = config.hiddenSize(), heads = config.headCount();
        int outWidth = heads * config.valueHeadDim();
        Linear oProj = weights.linear(names.oProj(), layer, 0, hidden, outWidth, config.outputBias());
        try (Tensor x = backend.allocate(TensorType.F32, tokens, hidden, "attention input");   // [T, H]
             Projected p = latent != null ? latent.project(layer, act, x, taps) : projectGqa(layer, act, x, taps);
             Tensor attn = backend.allocate(TensorType.F32, tokens, outWidth, "attention output")) { // [T, heads·dv]
            attend(layer, act, p, attn);
            taps.linearInput(layer, act, new String[]{oProj.module()}, attn);
            backend.linear(attn, oProj.w(), oProj.b(), act.hidden, true);
        }
    }

    /** input_layernorm(h) into x (done by the projection, which owns the first use of x). */
    void inputNorm(int layer, Activations act, Tensor x) {
        backend.rmsNorm(act.hidden, weights.vector(MoeFamily.name(names.inputNorm(), layer, 0), config.hiddenSize()), config.rmsNormEps(), x);
    }

    /** RoPE on the first rotaryDim dims of each head of x [T, heads·headDim], with the model's pairing. */
    void rope(Tensor x, int heads, int headDim, Activations act) {
        backend.rope(x, heads, headDim, config.rotaryDim(), act.positions, invFreq, rope.attentionScaling(), interleaved);
    }

    private Projected projectGqa(int layer, Activations act, Tensor x, ForwardTaps taps) {
        int tokens = act.tokens(), hidden = config.hiddenSize(), hd = config.headDim();
        int heads = config.headCount(), kvHeads = config.headCountKv(), qWidth = heads * hd, kvWidth = kvHeads * hd;
        boolean bias = config.qkvBias();
        Linear qProj = weights.linear(names.qProj(), layer, 0, qWidth, hidden, bias);
        Linear kProj = weights.linear(names.kProj(), layer, 0, kvWidth, hidden, bias);
        Linear vProj = weights.linear(names.vProj(), layer, 0, kvWidth, hidden, bias);
        inputNorm(layer, act, x);
        taps.linearInput(layer, act, new String[]{qProj.module(), kProj.module(), vProj.module()}, x);
        Tensor q = backend.allocate(TensorType.F32, tokens, qWidth, "q");   // [T, heads·hd]
        Tensor k = backend.allocate(TensorType.F32, tokens, kvWidth, "k");  // [T, kvHeads·hd]
        Tensor v = backend.allocate(TensorType.F32, tokens, kvWidth, "v");
        try {
            backend.linears(x, new Tensor[]{qProj.w(), kProj.w(), vProj.w()}, new Tensor[]{qProj.b(), kProj.b(), vProj.b()},
                    new Tensor[]{q, k, v}); // one product over x
            normsRopeTemperature(layer, act, q, k, v);
        } catch (RuntimeException e) {
            q.close();
            k.close();
            v.close();
            throw e;
        }
        return new Projected(q, k, v);
    }

    /** GQA's q/k norms, clip_qkv, RoPE with Llama 4's L2 norm after it, or a NoPE layer's query temperature. */
    private void normsRopeTemperature(int layer, Activations act, Tensor q, Tensor k, Tensor v) {
        int tokens = act.tokens(), hd = config.headDim(), heads = config.headCount(), kvHeads = config.headCountKv();
        int qWidth = heads * hd, kvWidth = kvHeads * hd;
        float eps = config.rmsNormEps();

        // config.qkNorm(): the family's norm is on (always, or by use_qk_norm) — never the family alone, so GLM-4.5
        // with use_qk_norm false looks for no norm tensors
        QkNorm qkNorm = config.qkNorm() ? config.family().attention().qkNorm() : QkNorm.NONE;
        Tensor qh = q.reshape((long) tokens * heads, hd), kh = k.reshape((long) tokens * kvHeads, hd);
        if (qkNorm == QkNorm.PER_HEAD) {
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
        if (config.usesRope(layer)) {
            rope(q, heads, hd, act);
            rope(k, kvHeads, hd, act);
            if (qkNorm == QkNorm.PER_HEAD_L2_ON_ROPE_LAYERS) {
                // Llama 4's Llama4TextL2Norm: x·rsqrt(mean(x²) + eps), no weight, after RoPE, on RoPE layers only
                Tensor unit = weights.constant("unit norm weight", hd, 1f);
                backend.rmsNorm(qh, unit, eps, qh);
                backend.rmsNorm(kh, unit, eps, kh);
            }
        } else if (config.attentionTemperatureTuning()) {
            // Llama 4's NoPE layers: q[t] *= log1p(floor((pos + 1) / floor_scale)) · attn_scale + 1 (float32, as transformers)
            float[] s = new float[tokens];
            for (int t = 0; t < tokens; t++) {
                float floor = (float) Math.floor((act.position[t] + 1f) / config.attentionFloorScale());
                s[t] = (float) Math.log1p(floor) * config.attentionScale() + 1f;
            }
            try (Tensor scale = backend.upload(s, 1, tokens, TensorType.F32, "attention temperature")) {
                backend.scaleRows(q, scale, null);
            }
        }
    }

    /** The attention op over this batch (and, when decoding, each sequence's cache) with the layer's span and sinks. */
    private void attend(int layer, Activations act, Projected p, Tensor attn) {
        int heads = config.headCount(), kvHeads = config.attentionKvHeads(), hd = config.headDim(), vd = config.valueHeadDim();
        ModelConfig.LayerAttention span = config.layerAttention().get(layer);
        int window = span == ModelConfig.LayerAttention.SLIDING ? config.slidingWindow() : 0;
        int chunk = span == ModelConfig.LayerAttention.CHUNKED ? config.attentionChunkSize() : 0;
        Tensor sinks = config.family().attention().sinks() ? weights.vector(MoeFamily.name(names.sinks(), layer, 0), heads) : null;
        float scale = config.softmaxScale();
        if (act.caches == null) {
            backend.attention(p.q(), p.k(), p.v(), new AttentionLayout(heads, kvHeads, hd, vd, scale, window, chunk, sinks,
                    act.qStart(), act.sequenceStart, act.qStart(), act.sequenceStart), attn);
            return;
        }
        // append this step's keys and values to each sequence's cache, then attend over the whole cache
        int sequences = act.sequences();
        int[] kvStart = new int[sequences + 1];
        for (int s = 0; s < sequences; s++) {
            act.caches[s].append(layer, p.k(), p.v(), act.sequenceStart[s], act.sequenceLength[s]);
            kvStart[s + 1] = kvStart[s] + act.caches[s].length(layer);
        }
        if (sequences == 1) {
            KvCache c = act.caches[0];
            try (Tensor kv = backend.uploadInts(kvStart, 1, 2, "kv starts")) {
                backend.attention(p.q(), c.keys(layer), c.values(layer), new AttentionLayout(heads, kvHeads, hd, vd, scale, window, chunk, sinks,
                        act.qStart(), act.sequenceStart, kv, kvStart), attn);
            }
            return;
        }
        // several sequences: pack their caches into one key/value tensor for a single attention call
        try (Tensor keys = backend.allocate(TensorType.F32, kvStart[sequences], kvHeads * hd, "packed keys");
             Tensor values = backend.allocate(TensorType.F32, kvStart[sequences], kvHeads * vd, "packed values");
             Tensor kv = backend.uploadInts(kvStart, 1, sequences + 1, "kv starts")) {
            for (int s = 0; s < sequences; s++) {
                int len = kvStart[s + 1] - kvStart[s];
                backend.copyRows(act.caches[s].keys(layer), 0, keys, kvStart[s], len);
                backend.copyRows(act.caches[s].values(layer), 0, values, kvStart[s], len);
            }
            backend.attention(p.q(), keys, values, new AttentionLayout(heads, kvHeads, hd, vd, scale, window, chunk, sinks,
                    act.qStart(), act.sequenceStart, kv, kvStart), attn);
        }
    }
}
