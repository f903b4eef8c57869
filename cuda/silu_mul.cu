// silu_mul.cu — the gated MLP activation: out = silu(gate) · up, silu(g) = g / (1 + exp(−g)), in fp32.
//
// Layout:  gate [rows, inter] and up [rows, inter] fp32 with a shared row stride ldIn; for a fused gate_up
//          output [rows, 2·inter] (HF Qwen3-MoE v5 `gate_up_proj`, gate first) pass gate = p, up = p + inter,
//          ldIn = 2·inter. out [rows, inter] contiguous, fp32 or bf16 (bf16 feeds the down_proj GEMM directly).
// Variants: 1. silu_mul_{f32,bf16} — one thread per output element (grid-stride loop).
//           2. clamped_swiglu_f32 — GPT-OSS's activation, same layout and launch: g = min(gate, limit),
//              u = clamp(up, −limit, limit), out = (u + 1) · g · sigmoid(alpha · g) (transformers' GptOssExperts).
// Launch: grid (min(ceil(rows·inter/256), 65535·4)), block 256.
#include "common.cuh"

template <typename OUT>
__device__ void silu_mul_impl(const float* __restrict__ gate, const float* __restrict__ up, int ldIn,
                              OUT* __restrict__ out, int rows, int inter) {
    size_t total = (size_t)rows * inter;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        size_t r = idx / inter;
        int c = (int)(idx % inter);
        float g = gate[r * ldIn + c];
        float u = up[r * ldIn + c];
        rc_store(out + idx, g / (1.f + expf(-g)) * u);
    }
}

extern "C" __global__ void silu_mul_f32(const float* gate, const float* up, int ldIn, float* out, int rows, int inter) {
    silu_mul_impl<float>(gate, up, ldIn, out, rows, inter);
}
extern "C" __global__ void silu_mul_bf16(const float* gate, const float* up, int ldIn, __nv_bfloat16* out,
                                         int rows, int inter) {
    silu_mul_impl<__nv_bfloat16>(gate, up, ldIn, out, rows, inter);
}

extern "C" __global__ void clamped_swiglu_f32(const float* gate, const float* up, int ldIn, float* out, int rows, int inter,
                                              float alpha, float limit) {
    size_t total = (size_t)rows * inter;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += (size_t)gridDim.x * blockDim.x) {
        size_t r = idx / inter;
        int c = (int)(idx % inter);
        float g = fminf(gate[r * ldIn + c], limit);
        float u = fminf(fmaxf(up[r * ldIn + c], -limit), limit);
        out[idx] = (u + 1.f) * (g / (1.f + expf(-alpha * g)));
    }
}

// Elementwise helpers the forward pass needs between kernels (kept here: same launch shape, same one-liner nature).
// residual_add_f32: y[i] += x[i] (residual stream update). cast_f32_bf16: y = bf16(x) round-to-nearest-even.
extern "C" __global__ void residual_add_f32(float* y, const float* x, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        y[i] += x[i];
}
extern "C" __global__ void cast_f32_bf16(const float* x, __nv_bfloat16* y, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16_rn(x[i]);
}
