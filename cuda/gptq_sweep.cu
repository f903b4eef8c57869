// gptq_sweep.cu — the GPTQ column sweep (Frantar et al.; llm-compressor ≥ 0.8 form: scales fixed beforehand from
// the original weights), batched over every row of every matrix that shares one inverse-Hessian factor — e.g. the
// gate_proj and up_proj of an expert, or all experts of a layer calibrated on all tokens.
//
// Layout:  W [rows, K] fp32 row-major, in place: on return it holds the dequantized (on-grid) weights.
//          Hinv [nH, K, K] fp32: upper Cholesky factor U of H⁻¹ (H damped, dead columns fixed, on the host);
//          matrix m = row / rowsPerH uses Hinv + m·K·K (rowsPerH = 0: one shared factor).
//          scale [rows, G], zp [rows, G] fp32 or null; gIdx [K] int32 (group of each column, for act-order
//          permutations) or null (column / gs). loss [rows] fp32 or null: Σ (w − q)² / U[i,i]² / 2 per row.
// Math per row (rows are independent given U):
//   for each column i: q = (rint(clamp(w_i/s + z, qmin, qmax)) − z)·s;  e = (w_i − q) / U[i,i];
//                      w_j −= e · U[i,j] for j > i;  w_i = q.
//   Applied lazily in blocks of 32 columns: inside the block immediately, to columns past the block as one
//   rank-32 update at the block's end — the same arithmetic as GPTQ's block_size 128, regrouped.
// Requirements: K % 32 == 0; rowsPerH % 32 == 0 (a block's rows share one factor).
// Variants: 1. gptq_sweep_b32 — block of 256 threads owns 32 rows; the 32×32 diagonal block of U and the 32×32
//              weight block sit in shared memory; warp 0 sweeps (lane = row); all 8 warps do the trailing update,
//              thread j streaming U[block, j] into registers and updating W[rows, j] (coalesced along j).
// Launch: grid (ceil(rows/32)), block 256.
#include "common.cuh"

#define GQ_B 32

extern "C" __global__ void __launch_bounds__(256) gptq_sweep_b32(float* W, int rows, int K, const float* Hinv,
        int rowsPerH, const float* scale, const float* zp, const int* gIdx, int gs, int qmin, int qmax, float* loss) {
    __shared__ float wt[GQ_B][GQ_B + 1];
    __shared__ float hb[GQ_B][GQ_B + 1];
    __shared__ float err[GQ_B][GQ_B + 1];
    int r0 = blockIdx.x * GQ_B;
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int G = (K + gs - 1) / gs;
    const float* U = Hinv + (rowsPerH > 0 ? (size_t)(r0 / rowsPerH) * K * K : 0);
    float lossAcc = 0.f;
    for (int cb = 0; cb < K; cb += GQ_B) {
        for (int idx = tid; idx < GQ_B * GQ_B; idx += blockDim.x) {
            int r = idx / GQ_B, c = idx % GQ_B;
            int row = r0 + r;
            wt[r][c] = row < rows ? W[(size_t)row * K + cb + c] : 0.f;
            hb[r][c] = U[(size_t)(cb + r) * K + cb + c];
        }
        __syncthreads();
        if (warp == 0) {
            int row = r0 + lane;
            for (int c = 0; c < GQ_B; ++c) {
                if (row >= rows) { err[lane][c] = 0.f; continue; }
                int col = cb + c;
                int g = gIdx != nullptr ? gIdx[col] : col / gs;
                size_t si = (size_t)row * G + g;
                float s = scale[si], z = zp != nullptr ? zp[si] : 0.f;
                float w = wt[lane][c];
                float q = (rintf(fminf(fmaxf(w / s + z, (float)qmin), (float)qmax)) - z) * s;
                float d = hb[c][c];
                float e = (w - q) / d;
                lossAcc += (w - q) * (w - q) / (d * d) * 0.5f;
                wt[lane][c] = q;
                err[lane][c] = e;
                for (int c2 = c + 1; c2 < GQ_B; ++c2) wt[lane][c2] -= e * hb[c][c2];
            }
        }
        __syncthreads();
        for (int idx = tid; idx < GQ_B * GQ_B; idx += blockDim.x) {
            int r = idx / GQ_B, c = idx % GQ_B;
            int row = r0 + r;
            if (row < rows) W[(size_t)row * K + cb + c] = wt[r][c];
        }
        for (int j = cb + GQ_B + tid; j < K; j += blockDim.x) {
            float h[GQ_B];
#pragma unroll
            for (int c = 0; c < GQ_B; ++c) h[c] = U[(size_t)(cb + c) * K + j];
            for (int r = 0; r < GQ_B && r0 + r < rows; ++r) {
                float a = 0.f;
#pragma unroll
                for (int c = 0; c < GQ_B; ++c) a += err[r][c] * h[c];
                W[(size_t)(r0 + r) * K + j] -= a;
            }
        }
        __syncthreads();
    }
    if (warp == 0 && loss != nullptr && r0 + lane < rows) loss[r0 + lane] = lossAcc;
}
