// gptq_sweep.cu — the GPTQ column sweep (Frantar et al.; llm-compressor ≥ 0.8 form: scales fixed beforehand from
// the original weights), batched over every row of every matrix that shares one inverse-Hessian factor — e.g. the
// gate_proj and up_proj of an expert, or all experts of a layer calibrated on all tokens.
//
// Layout:  W [rows, K] fp32 row-major, in place: on return it holds the dequantized (on-grid) weights.
//          Hinv [nH, K, K] fp32: upper Cholesky factor U of H⁻¹; matrix m = row / rowsPerH uses Hinv + m·K·K
//          (rowsPerH = 0: one shared factor).
//          scale [rows, G], zp [rows, G] fp32 or null; gIdx [K] int32 (group of each column, for act-order
//          permutations; [nH, K] with one map per matrix when rowsPerH > 0) or null (column / gs).
//          loss [rows] fp32 or null: Σ ((w − q) / U[i,i])² / 2 per row.
//          qRound: 0 keeps q in fp32; 1 (bf16) / 2 (fp16) rounds the dequantized value to the scale dtype, as
//          compressed-tensors' dequantization and the host solver do.
// Math per row, exactly the host solver's order (quant/gptq/GptqSolver.sweepRows):
//   for each block of `block` columns [i1, i2): for each column i: q = (rint(clamp(w_i/s + z, qmin, qmax)) − z)·s;
//   e = (w_i − q) / U[i,i]; w_j −= e·U[i,j] for i < j < i2 (immediately); w_i = q. Then, once per block, for every
//   later column j: w_j −= Σ_{c in block, in order} e_c·U[c,j] (the sum is formed first, as torch's matmul does).
//   Products and sums are rounded separately (__fmul_rn/__fadd_rn/__fsub_rn: no fused multiply-add), so the device
//   reproduces the host's float arithmetic and codes agree up to differences in U itself.
// Requirements: K % 32 == 0; rowsPerH % 32 == 0 (a thread block's 32 rows share one factor); block ≤ 128.
// Variants: 1. gptq_sweep_b32 (removed: rank-32 lazy updates with fused multiply-adds; codes drifted from the host).
//           2. gptq_sweep_rows32 — a 256-thread block owns 32 rows; the block's 32 × `block` weight tile sits in
//              shared memory; warp 0 sweeps (lane = row), staging row i of U's diagonal block in shared memory per
//              column; all 8 warps do the lazy update, thread j accumulating 32 rows' sums in registers.
// Launch: grid (ceil(rows/32)), block 256.
#include "common.cuh"
#include <cuda_fp16.h>

#define GQ_ROWS 32
#define GQ_MAXB 128

extern "C" __global__ void __launch_bounds__(256) gptq_sweep_rows32(float* W, int rows, int K, const float* Hinv,
        int rowsPerH, const float* scale, const float* zp, const int* gIdx, int gs, int qmin, int qmax, float* loss,
        int qRound, int block) {
    __shared__ float wt[GQ_ROWS][GQ_MAXB + 1];
    __shared__ float err[GQ_ROWS][GQ_MAXB + 1];
    __shared__ float urow[GQ_MAXB];
    int r0 = blockIdx.x * GQ_ROWS;
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int G = (K + gs - 1) / gs;
    const float* U = Hinv + (rowsPerH > 0 ? (size_t)(r0 / rowsPerH) * K * K : 0);
    if (gIdx != nullptr && rowsPerH > 0) gIdx += (size_t)(r0 / rowsPerH) * K; // one column-group map per matrix
    float lossAcc = 0.f;
    for (int i1 = 0; i1 < K; i1 += block) {
        int i2 = min(i1 + block, K), count = i2 - i1;
        for (int idx = tid; idx < GQ_ROWS * count; idx += blockDim.x) {
            int r = idx / count, c = idx % count, row = r0 + r;
            wt[r][c] = row < rows ? W[(size_t)row * K + i1 + c] : 0.f;
        }
        __syncthreads();
        if (warp == 0) {
            int row = r0 + lane;
            for (int c = 0; c < count; ++c) {
                int i = i1 + c;
                for (int j = c + lane; j < count; j += 32) urow[j] = U[(size_t)i * K + i1 + j];
                __syncwarp();
                if (row < rows) {
                    int g = gIdx != nullptr ? gIdx[i] : i / gs;
                    size_t si = (size_t)row * G + g;
                    float s = scale[si], z = zp != nullptr ? zp[si] : 0.f;
                    float x = wt[lane][c];
                    float v = __fadd_rn(__fdiv_rn(x, s), z);
                    float q = __fmul_rn(__fsub_rn(rintf(fminf(fmaxf(v, (float)qmin), (float)qmax)), z), s);
                    if (qRound == 1) q = __bfloat162float(__float2bfloat16_rn(q));
                    else if (qRound == 2) q = __half2float(__float2half_rn(q));
                    float e = __fdiv_rn(__fsub_rn(x, q), urow[c]);
                    lossAcc = __fadd_rn(lossAcc, __fmul_rn(e, e) * 0.5f);
                    wt[lane][c] = q;
                    err[lane][c] = e;
                    for (int j = c + 1; j < count; ++j) wt[lane][j] = __fsub_rn(wt[lane][j], __fmul_rn(e, urow[j]));
                } else {
                    err[lane][c] = 0.f;
                }
                __syncwarp();
            }
        }
        __syncthreads();
        for (int idx = tid; idx < GQ_ROWS * count; idx += blockDim.x) {
            int r = idx / count, c = idx % count, row = r0 + r;
            if (row < rows) W[(size_t)row * K + i1 + c] = wt[r][c];
        }
        // lazy update of the columns past the block: thread per column, 32 rows' sums in registers, c in order
        for (int j = i2 + tid; j < K; j += blockDim.x) {
            float acc[GQ_ROWS];
#pragma unroll
            for (int r = 0; r < GQ_ROWS; ++r) acc[r] = 0.f;
            for (int c = 0; c < count; ++c) {
                float u = U[(size_t)(i1 + c) * K + j];
#pragma unroll
                for (int r = 0; r < GQ_ROWS; ++r) acc[r] = __fadd_rn(acc[r], __fmul_rn(err[r][c], u));
            }
            for (int r = 0; r < GQ_ROWS && r0 + r < rows; ++r) {
                float* p = W + (size_t)(r0 + r) * K + j;
                *p = __fsub_rn(*p, acc[r]);
            }
        }
        __syncthreads();
    }
    if (warp == 0 && loss != nullptr && r0 + lane < rows) loss[r0 + lane] = lossAcc;
}
