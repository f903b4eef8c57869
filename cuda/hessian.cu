// hessian.cu — fp32 GPTQ Hessian accumulation H_b += alpha · Σ_r w_r · x_r x_rᵀ, batched over experts.
//
// Layout:  X [*, K] row-major, fp32 or bf16, row stride ldx (the input rows of one Linear: block input for
//          gate/up, silu·mul output for down). Rows of the sorted row space: batch b (an expert) owns rows
//          offsets[b]..offsets[b+1]−1; row r reads X[rowIndex[r]] when rowIndex != null (tokens stay in token order),
//          else X[r]. rowWeight [rows] fp32 or null (1): an optional per-row weight such as the routing weight.
//          H [batches, K, K] fp32 row-major, accumulated in place (the caller zeroes it once).
//          llm-compressor's form is alpha = 2 (H += 2·XᵀX, later divided by the sample count); any positive
//          constant leaves GPTQ's result unchanged because damping is relative to mean(diag H).
// Variants: 1. hessian_accumulate_{f32,bf16} — 64×64 output tile per block, 256 threads × 4×4 outputs, rows staged
//              16 at a time in shared memory; only tiles on or above the diagonal compute, and they also write the
//              mirrored tile, so H stays exactly symmetric.
// Launch: grid (ceil(K/64), ceil(K/64), batches), block 256.
// Summation order over rows is fixed (row order, 16-row chunks), so results are deterministic run to run.
#include "common.cuh"

#define HS_T 64
#define HS_R 16

template <typename IN>
__device__ void hessian_impl(const IN* __restrict__ X, int ldx, const int* __restrict__ rowIndex,
                             const float* __restrict__ rowWeight, const int* __restrict__ offsets, int K,
                             float* __restrict__ H, float alpha) {
    int ti = blockIdx.y, tj = blockIdx.x, b = blockIdx.z;
    if (ti > tj) return;
    __shared__ __align__(16) float xi[HS_R][HS_T];
    __shared__ __align__(16) float xj[HS_R][HS_T];
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    int i0 = ti * HS_T, j0 = tj * HS_T;
    float acc[4][4] = {};
    int rBegin = offsets[b], rEnd = offsets[b + 1];
    for (int r0 = rBegin; r0 < rEnd; r0 += HS_R) {
        for (int idx = threadIdx.x; idx < HS_R * HS_T; idx += blockDim.x) {
            int rr = idx / HS_T, c = idx % HS_T;
            int r = r0 + rr;
            float vi = 0.f, vj = 0.f;
            if (r < rEnd) {
                long long src = rowIndex != nullptr ? rowIndex[r] : r;
                const IN* xr = X + src * ldx;
                float wgt = rowWeight != nullptr ? rowWeight[r] : 1.f;
                if (i0 + c < K) vi = rc_load(xr + i0 + c) * wgt;
                if (j0 + c < K) vj = rc_load(xr + j0 + c);
            }
            xi[rr][c] = vi;
            xj[rr][c] = vj;
        }
        __syncthreads();
#pragma unroll 4
        for (int rr = 0; rr < HS_R; ++rr) {
            float4 a = *reinterpret_cast<const float4*>(&xi[rr][ty * 4]);
            float4 c = *reinterpret_cast<const float4*>(&xj[rr][tx * 4]);
            float av[4] = {a.x, a.y, a.z, a.w}, cv[4] = {c.x, c.y, c.z, c.w};
#pragma unroll
            for (int p = 0; p < 4; ++p)
#pragma unroll
                for (int q = 0; q < 4; ++q) acc[p][q] += av[p] * cv[q];
        }
        __syncthreads();
    }
    float* Hb = H + (size_t)b * K * K;
#pragma unroll
    for (int p = 0; p < 4; ++p)
#pragma unroll
        for (int q = 0; q < 4; ++q) {
            int i = i0 + ty * 4 + p, j = j0 + tx * 4 + q;
            if (i >= K || j >= K) continue;
            float v = alpha * acc[p][q];
            Hb[(size_t)i * K + j] += v;
            if (ti != tj) Hb[(size_t)j * K + i] += v;
        }
}

extern "C" __global__ void __launch_bounds__(256) hessian_accumulate_f32(const float* X, int ldx, const int* rowIndex,
        const float* rowWeight, const int* offsets, int K, float* H, float alpha) {
    hessian_impl<float>(X, ldx, rowIndex, rowWeight, offsets, K, H, alpha);
}
extern "C" __global__ void __launch_bounds__(256) hessian_accumulate_bf16(const __nv_bfloat16* X, int ldx,
        const int* rowIndex, const float* rowWeight, const int* offsets, int K, float* H, float alpha) {
    hessian_impl<__nv_bfloat16>(X, ldx, rowIndex, rowWeight, offsets, K, H, alpha);
}
