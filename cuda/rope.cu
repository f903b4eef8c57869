// rope.cu — rotary position embedding, NeoX "rotate-half" form (HF apply_rotary_pos_emb as used by Qwen2/Qwen3-MoE,
// Mixtral, OLMoE): for i < rot/2, with θ = pos · invFreq[i],
//     x'[i]         = x[i] · cos θ − x[i + rot/2] · sin θ
//     x'[i + rot/2] = x[i + rot/2] · cos θ + x[i] · sin θ
// cos and sin are multiplied by `attnScale` (HF "attention_scaling"; 1 except YaRN-style scaling); dimensions
// ≥ rot pass through (partial rotary).
//
// Layout:  x [tokens, heads, headDim] fp32 in place, token stride ldx (elements; lets q and k be slices of one
//          fused qkv row), positions [tokens] int32, invFreq [rot/2] fp32 computed on the host exactly as HF does
//          (including llama3/linear/YaRN frequency rescaling), so the kernel has one job.
// Variants: 1. rope_neox_f32 — one thread per (token, head, i < rot/2) pair.
//           2. rope_interleaved_f32 — the same, pairing (x[2i], x[2i+1]) instead (GPT-J; Llama 4's complex product
//              view_as_complex(x.reshape(..., -1, 2)) · freqs_cis; DeepSeek's rope_interleave, whose transformers code
//              writes the rotated pairs de-interleaved — the same q·k, since q and k get the same permutation).
// Launch: grid (ceil(tokens·heads·rot/2 / 256)), block 256.
// θ is formed in fp32 like HF (freqs = pos·invFreq in fp32); sincosf is the accurate (not __sinf) version because
// positions reach 10^5 and fast-math range reduction would lose the phase.
#include "common.cuh"

extern "C" __global__ void rope_neox_f32(float* x, int ldx, const int* positions, const float* invFreq,
                                         int tokens, int heads, int headDim, int rot, float attnScale) {
    int half = rot >> 1;
    size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    size_t total = (size_t)tokens * heads * half;
    if (idx >= total) return;
    int i = (int)(idx % half);
    size_t th = idx / half;
    int h = (int)(th % heads);
    int t = (int)(th / heads);
    float theta = (float)positions[t] * invFreq[i];
    float s, c;
    sincosf(theta, &s, &c);
    c *= attnScale;
    s *= attnScale;
    float* p = x + (size_t)t * ldx + (size_t)h * headDim;
    float x1 = p[i], x2 = p[i + half];
    p[i] = x1 * c - x2 * s;
    p[i + half] = x2 * c + x1 * s;
}

extern "C" __global__ void rope_interleaved_f32(float* x, int ldx, const int* positions, const float* invFreq,
                                                int tokens, int heads, int headDim, int rot, float attnScale) {
    int half = rot >> 1;
    size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    size_t total = (size_t)tokens * heads * half;
    if (idx >= total) return;
    int i = (int)(idx % half);
    size_t th = idx / half;
    int h = (int)(th % heads);
    int t = (int)(th / heads);
    float theta = (float)positions[t] * invFreq[i];
    float s, c;
    sincosf(theta, &s, &c);
    c *= attnScale;
    s *= attnScale;
    float* p = x + (size_t)t * ldx + (size_t)h * headDim + 2 * i;
    float x1 = p[0], x2 = p[1];
    p[0] = x1 * c - x2 * s;
    p[1] = x2 * c + x1 * s;
}
