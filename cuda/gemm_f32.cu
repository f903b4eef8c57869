// gemm_f32.cu — fp32 GEMMs on CUDA cores for `--precision fp32` (the CPU reference's numerics on the GPU).
//
// Both kernels compute C = A · Wᵀ (HF Linear: W is [out, in]) with fp32 operands and fp32 accumulation:
//   A [M, K] fp32, row stride lda;  W [N, K] fp32;  C [M, N] fp32, row stride ldc; accumulate != 0 adds into C.
//   gemm_f32:          grid (ceil(N/64), ceil(M/64)), block 256.
//   grouped_gemm_f32:  rows grouped by expert (offsets [E+1]); sorted row r reads A[rowIndex[r]] when rowIndex !=
//                      null, else A[r]; expert e uses W + e·N·K. grid (ceil(N/64), ceil(rows/64) + E), block 256;
//                      surplus blocks exit (rc_segment_tile).
// Variants: 1. 64×64 block tile, K step 16, 256 threads × 4×4 outputs, A and W tiles transposed in shared memory
//              (padded rows) so each thread reads 4 + 4 contiguous values per k step. Not tuned: fp32 mode is the
//              exactness path; bf16 tensor cores (gemm_bf16.cu) are the fast one.
#include "common.cuh"

#define GF_T 64
#define GF_K 16

__device__ __forceinline__ void gemm_f32_tile(const float* __restrict__ A, int lda, const int* __restrict__ rowIndex,
                                              int rowBegin, int rowEnd, const float* __restrict__ W, int n0, int N, int K,
                                              float* __restrict__ C, int ldc, int accumulate) {
    __shared__ float as[GF_K][GF_T + 4];
    __shared__ float ws[GF_K][GF_T + 4];
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += GF_K) {
        // 64 rows × 16 k of A and of W: 1024 values each, 4 per thread
        for (int i = threadIdx.x; i < GF_T * GF_K; i += blockDim.x) {
            int r = i / GF_K, kk = i % GF_K, k = k0 + kk;
            int row = rowBegin + r;
            float a = 0.f;
            if (row < rowEnd && k < K) {
                size_t src = rowIndex ? (size_t)rowIndex[row] : (size_t)row;
                a = A[src * lda + k];
            }
            as[kk][r] = a;
            int col = n0 + r;
            ws[kk][r] = (col < N && k < K) ? W[(size_t)col * K + k] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < GF_K; ++kk) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) a[i] = as[kk][ty * 4 + i];
#pragma unroll
            for (int j = 0; j < 4; ++j) b[j] = ws[kk][tx * 4 + j];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        int row = rowBegin + ty * 4 + i;
        if (row >= rowEnd) continue;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            int col = n0 + tx * 4 + j;
            if (col >= N) continue;
            float* c = C + (size_t)row * ldc + col;
            *c = accumulate ? *c + acc[i][j] : acc[i][j];
        }
    }
}

extern "C" __global__ void gemm_f32(const float* A, int lda, const float* W, float* C, int ldc, int M, int N, int K,
                                    int accumulate) {
    int m0 = blockIdx.y * GF_T;
    gemm_f32_tile(A, lda, nullptr, m0, min(M, m0 + GF_T), W, blockIdx.x * GF_T, N, K, C, ldc, accumulate);
}

extern "C" __global__ void grouped_gemm_f32(const float* A, int lda, const int* rowIndex, const int* offsets, int experts,
                                            const float* W, float* C, int ldc, int N, int K, int accumulate) {
    int e, rowBegin;
    if (!rc_block_segment(offsets, experts, GF_T, blockIdx.y, &e, &rowBegin)) return;
    int rowEnd = min(offsets[e + 1], rowBegin + GF_T);
    gemm_f32_tile(A, lda, rowIndex, rowBegin, rowEnd, W + (size_t)e * N * K, blockIdx.x * GF_T, N, K, C, ldc, accumulate);
}
