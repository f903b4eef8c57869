package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.ModelWeights.Linear;
import org.routecal.model.family.MoeFamily;

/**
 * DeepSeek's multi-head latent attention, as its q, k and v for the shared attention op (transformers'
 * DeepseekV3Attention):
 * <pre>
 *   q   = q_b_proj(q_a_layernorm(q_a_proj(x)))          (or q_proj(x) when q_lora_rank is null)   [T, heads·(nope+rope)]
 *   ckv = kv_a_proj_with_mqa(x) = [latent | k_rot]                                               [T, kvRank + rope]
 *   kv  = kv_b_proj(kv_a_layernorm(latent)) = per head [k_nope | v]                              [T, heads·(nope+v)]
 *   k   = per head [k_nope | rope(k_rot)]  (one rotary key shared by every head),  v = per head v
 * </pre>
 * RoPE turns only the last qk_rope_head_dim dims of each q head and the shared k_rot. The keys and values are
 * expanded per head before the cache (see {@link KvCache}); the softmax scale carries YaRN's mscale²
 * ({@link ModelConfig#softmaxScale}).
 */
final class LatentProjection {
    private final ModelConfig config;
    private final ModelConfig.Mla mla;
    private final MoeFamily.Tensors names;
    private final ModelWeights weights;
    private final Backend backend;
    private final AttentionBlock block;

    LatentProjection(ModelConfig config, ModelWeights weights, AttentionBlock block) {
        this.config = config;
        this.mla = config.mla();
        this.names = config.family().tensors();
        this.weights = weights;
        this.backend = weights.backend();
        this.block = block;
    }

    AttentionBlock.Projected project(int layer, Activations act, Tensor x, ForwardTaps taps) {
        int tokens = act.tokens(), hidden = config.hiddenSize(), heads = config.headCount();
        int nope = mla.qkNopeHeadDim(), rot = mla.qkRopeHeadDim(), vd = mla.vHeadDim(), dk = nope + rot, kvRank = mla.kvLoraRank();
        float eps = config.rmsNormEps();
        boolean bias = config.qkvBias();
        Linear kvA = weights.linear(names.kvAProj(), layer, 0, kvRank + rot, hidden, bias);
        Linear kvB = weights.linear(names.kvBProj(), layer, 0, heads * (nope + vd), kvRank, false);
        block.inputNorm(layer, act, x);
        Tensor q = backend.allocate(TensorType.F32, tokens, heads * dk, "q");              // [T, heads·dk]
        Tensor k = backend.allocate(TensorType.F32, tokens, heads * dk, "k");              // [T, heads·dk]
        Tensor v = backend.allocate(TensorType.F32, tokens, heads * vd, "v");              // [T, heads·vd]
        try (Tensor ckv = backend.allocate(TensorType.F32, tokens, kvRank + rot, "compressed kv");
             Tensor latent = backend.allocate(TensorType.F32, tokens, kvRank, "kv latent");
             Tensor kRot = backend.allocate(TensorType.F32, tokens, rot, "k rot");
             Tensor qRot = backend.allocate(TensorType.F32, tokens, heads * rot, "q rot");
             Tensor kv = backend.allocate(TensorType.F32, tokens, heads * (nope + vd), "kv")) {
            // q_a_proj (or q_proj) and kv_a_proj_with_mqa read the same input: one tap (q's first, its Hessian key)
            // and one product
            if (mla.qLoraRank() > 0) {
                Linear qA = weights.linear(names.qAProj(), layer, 0, mla.qLoraRank(), hidden, bias);
                Linear qB = weights.linear(names.qBProj(), layer, 0, heads * dk, mla.qLoraRank(), false);
                taps.linearInput(layer, act, new String[]{qA.module(), kvA.module()}, x);
                try (Tensor qa = backend.allocate(TensorType.F32, tokens, mla.qLoraRank(), "q latent")) {
                    backend.linears(x, new Tensor[]{qA.w(), kvA.w()}, new Tensor[]{qA.b(), kvA.b()}, new Tensor[]{qa, ckv});
                    backend.rmsNorm(qa, weights.vector(MoeFamily.name(names.qANorm(), layer, 0), mla.qLoraRank()), eps, qa);
                    taps.linearInput(layer, act, new String[]{qB.module()}, qa);
                    backend.linear(qa, qB.w(), null, q, false);
                }
            } else {
                Linear qProj = weights.linear(names.qProj(), layer, 0, heads * dk, hidden, false);
                taps.linearInput(layer, act, new String[]{qProj.module(), kvA.module()}, x);
                backend.linears(x, new Tensor[]{qProj.w(), kvA.w()}, new Tensor[]{null, kvA.b()}, new Tensor[]{q, ckv});
            }
            backend.copyColumns(ckv, 0, 0, latent, 0, kvRank, kvRank, 1);
            backend.copyColumns(ckv, kvRank, 0, kRot, 0, rot, rot, 1);
            backend.rmsNorm(latent, weights.vector(MoeFamily.name(names.kvANorm(), layer, 0), kvRank), eps, latent);
            block.rope(kRot, 1, rot, act);
            backend.copyColumns(q, nope, dk, qRot, 0, rot, rot, heads);
            block.rope(qRot, heads, rot, act);
            backend.copyColumns(qRot, 0, rot, q, nope, dk, rot, heads);
            taps.linearInput(layer, act, new String[]{kvB.module()}, latent);
            backend.linear(latent, kvB.w(), null, kv, false);
            if (nope > 0) backend.copyColumns(kv, 0, nope + vd, k, 0, dk, nope, heads);
            backend.copyColumns(kRot, 0, 0, k, nope, dk, rot, heads);
            backend.copyColumns(kv, nope, nope + vd, v, 0, vd, vd, heads);
        } catch (RuntimeException e) {
            q.close();
            k.close();
            v.close();
            throw e;
        }
        return new AttentionBlock.Projected(q, k, v);
    }
}
