// gemm_bf16.cu — bf16 GEMMs on tensor cores (mma.sync m16n8k16, bf16 in, fp32 accumulate; sm_80 and newer).
//
// Both kernels compute C = A · Wᵀ (the HF Linear convention: W is the weight [out, in]):
//   A [M, K] bf16 row-major, row stride lda;  W [N, K] bf16 row-major (= Wᵀ column-major);  C [M, N], row stride ldc,
//   fp32 or bf16; accumulate != 0 adds into C (residual stream / down_proj into the MoE output).
// Requirements (checked on the host in CudaKernels): K % 8 == 0, lda % 8 == 0, A and W 16-byte aligned
//   (cp.async moves 16-byte chunks; a chunk is either fully inside K or fully outside).
//
// Kernels:
//   gemm_bf16_{f32,bf16}          plain GEMM. grid (ceil(N/128), ceil(M/128)), block 256, 40 KiB static smem.
//   grouped_gemm_bf16_{f32,bf16}  expert GEMM over rows grouped by expert: rows offsets[e]..offsets[e+1] of the
//                                 sorted row space use W + e·N·K ([experts, N, K] packed). A row r of the sorted
//                                 space is A[rowIndex[r]] when rowIndex != null (gather: A stays in token order),
//                                 else A[r]. C is in sorted-row order. grid (ceil(N/128), ceil(rows/128) + experts),
//                                 block 256; surplus blocks exit (see rc_segment_tile).
// Variants: 1. 128×128×32 block tile, 8 warps as 2 (M) × 4 (N), warp tile 64×32 = 4×4 mma tiles, two-stage
//              cp.async double buffer, fragments read from padded shared memory (row pitch 40 bf16: the 8 rows ×
//              4 column pairs a fragment load touches fall in 32 distinct banks).
//           2. (the *_v2 entries) the same tiles with a four-stage cp.async pipeline (80 KiB of dynamic shared memory,
//              one barrier per k-step) and fragments loaded by ldmatrix.x4: 6 shared loads per 16 mma instead of 24
//              (the H100 profile of the routing pass had the expert GEMM at 200 TFLOP/s with variant 1). Same
//              products and summation order per output as variant 1, so the results are bit-identical.
//           (A variant 3, 128×256 tiles with a 64×64 warp tile and three stages, was measured on an H200 on 2026-12-05:
//           bit-identical, but 0.75–0.99× variant 2 on every shape but 8192³ (0.99×), so it was removed; the template
//           below keeps BN and STAGES as parameters for the next attempt.)
// Fragment layout of m16n8k16 (PTX ISA "Matrix Fragments for mma.m16n8k16"), g = lane/4, t = lane%4:
//   A regs: {A[g][2t..2t+1], A[g+8][2t..2t+1], A[g][2t+8..2t+9], A[g+8][2t+8..2t+9]}
//   B regs: {W[g][2t..2t+1], W[g][2t+8..2t+9]}   (B = Wᵀ, so B's column n is W's row n)
//   C regs: {C[g][2t], C[g][2t+1], C[g+8][2t], C[g+8][2t+1]}
#include "common.cuh"

#define GB_BM 128
#define GB_BN 128
#define GB_BK 32
#define GB_LDS 40

struct GemmSmem {
    __nv_bfloat16 a[2][GB_BM][GB_LDS];
    __nv_bfloat16 b[2][GB_BN][GB_LDS];
};

__device__ __forceinline__ void rc_cp_async16(void* smem, const void* gmem, int srcBytes) {
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(srcBytes));
}
__device__ __forceinline__ void rc_cp_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void rc_cp_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// One 128×128 output tile: rows [m0, min(m0+128, rowEnd)) of the (possibly gathered) A, columns [n0, n0+128) ∩ [0, N).
template <typename OUT>
__device__ void gemm_tile(GemmSmem& sm, const __nv_bfloat16* __restrict__ A, int lda, const int* __restrict__ rowIndex,
                          int m0, int rowEnd, const __nv_bfloat16* __restrict__ W, int N, int K,
                          OUT* C, int ldc, int accumulate, int n0) {
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int warpM = warp >> 2, warpN = warp & 3;
    int g = lane >> 2, t = lane & 3;
    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
#pragma unroll
            for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

    // Each thread moves 2 A chunks and 2 W chunks of 16 bytes per stage: chunk c → row c/4, column (c%4)·8.
    const __nv_bfloat16* aSrc[2];
    const __nv_bfloat16* bSrc[2];
    bool aOk[2], bOk[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        int c = tid + h * 256, row = c >> 2, kc = (c & 3) * 8;
        int gr = m0 + row;
        aOk[h] = gr < rowEnd;
        long long ar = aOk[h] ? (rowIndex != nullptr ? rowIndex[gr] : gr) : 0;
        aSrc[h] = A + ar * lda + kc;
        int gn = n0 + row;
        bOk[h] = gn < N;
        bSrc[h] = W + (long long)(bOk[h] ? gn : 0) * K + kc;
    }
    int nk = (K + GB_BK - 1) / GB_BK;
    auto load = [&](int stage, int k0) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            int c = tid + h * 256, row = c >> 2, kc = (c & 3) * 8;
            bool kin = k0 + kc < K;
            rc_cp_async16(&sm.a[stage][row][kc], aOk[h] && kin ? aSrc[h] + k0 : A, aOk[h] && kin ? 16 : 0);
            rc_cp_async16(&sm.b[stage][row][kc], bOk[h] && kin ? bSrc[h] + k0 : W, bOk[h] && kin ? 16 : 0);
        }
        rc_cp_commit();
    };
    load(0, 0);
    for (int kt = 0; kt < nk; ++kt) {
        if (kt + 1 < nk) {
            load((kt + 1) & 1, (kt + 1) * GB_BK);
            rc_cp_wait<1>();
        } else {
            rc_cp_wait<0>();
        }
        __syncthreads();
        int s = kt & 1;
#pragma unroll
        for (int kk = 0; kk < GB_BK; kk += 16) {
            unsigned af[4][4], bfr[4][2];
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                int r = warpM * 64 + i * 16 + g;
                af[i][0] = rc_ld32(&sm.a[s][r][kk + 2 * t]);
                af[i][1] = rc_ld32(&sm.a[s][r + 8][kk + 2 * t]);
                af[i][2] = rc_ld32(&sm.a[s][r][kk + 2 * t + 8]);
                af[i][3] = rc_ld32(&sm.a[s][r + 8][kk + 2 * t + 8]);
            }
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                int n = warpN * 32 + j * 8 + g;
                bfr[j][0] = rc_ld32(&sm.b[s][n][kk + 2 * t]);
                bfr[j][1] = rc_ld32(&sm.b[s][n][kk + 2 * t + 8]);
            }
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j)
                    rc_mma_bf16(acc[i][j], af[i][0], af[i][1], af[i][2], af[i][3], bfr[j][0], bfr[j][1]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                int row = m0 + warpM * 64 + i * 16 + g + (r >= 2 ? 8 : 0);
                int col = n0 + warpN * 32 + j * 8 + 2 * t + (r & 1);
                if (row < rowEnd && col < N) {
                    OUT* p = C + (long long)row * ldc + col;
                    float v = acc[i][j][r];
                    rc_store(p, accumulate ? rc_load(p) + v : v);
                }
            }
}

// ---- variant 2: multistage cp.async, ldmatrix --------------------------------------------------------------
// One template: BN columns per block (warp tile 64 × BN/4, i.e. BN/32 n-tiles of 8), STAGES pipeline stages.
// Variant 2 = <128, 4>.

template <int BN>
struct GemmStage {
    __nv_bfloat16 a[GB_BM][GB_LDS];
    __nv_bfloat16 b[BN][GB_LDS];
};

__device__ __forceinline__ void rc_ldmatrix_x4(unsigned* r, const __nv_bfloat16* p) {
    unsigned s = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
}

template <typename OUT, int BN, int STAGES>
__device__ void gemm_tile_ms(GemmStage<BN>* sm, const __nv_bfloat16* __restrict__ A, int lda, const int* __restrict__ rowIndex,
                             int m0, int rowEnd, const __nv_bfloat16* __restrict__ W, int N, int K,
                             OUT* C, int ldc, int accumulate, int n0) {
    constexpr int NT = BN / 32;   // n-tiles of 8 per warp
    constexpr int BH = BN / 64;   // 16-byte W chunks per thread per stage
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int warpM = warp >> 2, warpN = warp & 3;
    int g = lane >> 2, t = lane & 3;
    float acc[4][NT][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < NT; ++j)
#pragma unroll
            for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

    // per stage: A 128 rows × 4 chunks of 16 B (2 per thread), W BN rows × 4 chunks (BH per thread)
    const __nv_bfloat16* aSrc[2];
    const __nv_bfloat16* bSrc[BH];
    bool aOk[2], bOk[BH];
#pragma unroll
    for (int h = 0; h < BH; ++h) {  // BH ≥ 2: the A chunks go with the first two W chunks
        int c = tid + h * 256, row = c >> 2, kc = (c & 3) * 8;
        if (h < 2) {
            int gr = m0 + row;
            aOk[h] = gr < rowEnd;
            long long ar = aOk[h] ? (rowIndex != nullptr ? rowIndex[gr] : gr) : 0;
            aSrc[h] = A + ar * lda + kc;
        }
        int gn = n0 + row;
        bOk[h] = gn < N;
        bSrc[h] = W + (long long)(bOk[h] ? gn : 0) * K + kc;
    }
    int nk = (K + GB_BK - 1) / GB_BK;
    auto load = [&](int stage, int k0) {
#pragma unroll
        for (int h = 0; h < BH; ++h) {
            int c = tid + h * 256, row = c >> 2, kc = (c & 3) * 8;
            bool kin = k0 + kc < K;
            if (h < 2) rc_cp_async16(&sm[stage].a[row][kc], aOk[h] && kin ? aSrc[h] + k0 : A, aOk[h] && kin ? 16 : 0);
            rc_cp_async16(&sm[stage].b[row][kc], bOk[h] && kin ? bSrc[h] + k0 : W, bOk[h] && kin ? 16 : 0);
        }
    };
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
        if (s < nk) load(s, s * GB_BK);
        rc_cp_commit();  // empty groups keep the count the wait below relies on
    }
    // ldmatrix row addresses: A matrices (rows 0-7|8-15) × (k 0-7|8-15); B matrices (k 0-7|8-15) × (n-tile 2p|2p+1)
    int aRow = warpM * 64 + (lane & 15), aCol = (lane >> 4) * 8;
    int bRow = warpN * (BN / 4) + ((lane >> 4) & 1) * 8 + (lane & 7), bCol = ((lane >> 3) & 1) * 8;
    for (int kt = 0; kt < nk; ++kt) {
        rc_cp_wait<STAGES - 2>();  // stage kt has landed (for this thread)
        __syncthreads();           // ... for every thread, and stage kt - 1 is consumed by all
        int next = kt + STAGES - 1;
        if (next < nk) load(next % STAGES, next * GB_BK);
        rc_cp_commit();
        const GemmStage<BN>& st = sm[kt % STAGES];
#pragma unroll
        for (int kk = 0; kk < GB_BK; kk += 16) {
            unsigned af[4][4], bq[NT / 2][4];
#pragma unroll
            for (int i = 0; i < 4; ++i) rc_ldmatrix_x4(af[i], &st.a[aRow + i * 16][kk + aCol]);
#pragma unroll
            for (int p = 0; p < NT / 2; ++p) rc_ldmatrix_x4(bq[p], &st.b[bRow + p * 16][kk + bCol]);
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < NT; ++j)
                    rc_mma_bf16(acc[i][j], af[i][0], af[i][1], af[i][2], af[i][3], bq[j >> 1][(j & 1) * 2],
                                bq[j >> 1][(j & 1) * 2 + 1]);
        }
    }
    rc_cp_wait<0>();
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < NT; ++j)
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                int row = m0 + warpM * 64 + i * 16 + g + (r >= 2 ? 8 : 0);
                int col = n0 + warpN * (BN / 4) + j * 8 + 2 * t + (r & 1);
                if (row < rowEnd && col < N) {
                    OUT* p = C + (long long)row * ldc + col;
                    float v = acc[i][j][r];
                    rc_store(p, accumulate ? rc_load(p) + v : v);
                }
            }
}

template <typename OUT, int BN, int STAGES>
__device__ void gemm_entry_ms(const __nv_bfloat16* A, int lda, const __nv_bfloat16* W, OUT* C, int ldc,
                              int M, int N, int K, int accumulate) {
    extern __shared__ __align__(16) unsigned char gemmDynamic[];
    gemm_tile_ms<OUT, BN, STAGES>(reinterpret_cast<GemmStage<BN>*>(gemmDynamic), A, lda, nullptr, blockIdx.y * GB_BM, M, W, N,
                                  K, C, ldc, accumulate, blockIdx.x * BN);
}

template <typename OUT, int BN, int STAGES>
__device__ void grouped_entry_ms(const __nv_bfloat16* A, int lda, const int* rowIndex, const int* offsets, int experts,
                                 const __nv_bfloat16* W, OUT* C, int ldc, int N, int K, int accumulate) {
    extern __shared__ __align__(16) unsigned char gemmDynamic[];
    int e, row;
    if (!rc_block_segment(offsets, experts, GB_BM, blockIdx.y, &e, &row)) return;
    gemm_tile_ms<OUT, BN, STAGES>(reinterpret_cast<GemmStage<BN>*>(gemmDynamic), A, lda, rowIndex, row, offsets[e + 1],
                                  W + (long long)e * N * K, N, K, C, ldc, accumulate, blockIdx.x * BN);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_bf16_v2_f32(const __nv_bfloat16* A, int lda,
        const __nv_bfloat16* W, float* C, int ldc, int M, int N, int K, int accumulate) {
    gemm_entry_ms<float, 128, 4>(A, lda, W, C, ldc, M, N, K, accumulate);
}
extern "C" __global__ void __launch_bounds__(256, 2) gemm_bf16_v2_bf16(const __nv_bfloat16* A, int lda,
        const __nv_bfloat16* W, __nv_bfloat16* C, int ldc, int M, int N, int K, int accumulate) {
    gemm_entry_ms<__nv_bfloat16, 128, 4>(A, lda, W, C, ldc, M, N, K, accumulate);
}
extern "C" __global__ void __launch_bounds__(256, 2) grouped_gemm_bf16_v2_f32(const __nv_bfloat16* A, int lda,
        const int* rowIndex, const int* offsets, int experts, const __nv_bfloat16* W, float* C, int ldc,
        int N, int K, int accumulate) {
    grouped_entry_ms<float, 128, 4>(A, lda, rowIndex, offsets, experts, W, C, ldc, N, K, accumulate);
}
extern "C" __global__ void __launch_bounds__(256, 2) grouped_gemm_bf16_v2_bf16(const __nv_bfloat16* A, int lda,
        const int* rowIndex, const int* offsets, int experts, const __nv_bfloat16* W, __nv_bfloat16* C, int ldc,
        int N, int K, int accumulate) {
    grouped_entry_ms<__nv_bfloat16, 128, 4>(A, lda, rowIndex, offsets, experts, W, C, ldc, N, K, accumulate);
}
// ---- entries of variant 1 -------------------------------------------------------------------------------------------

template <typename OUT>
__device__ void gemm_entry(const __nv_bfloat16* A, int lda, const __nv_bfloat16* W, OUT* C, int ldc,
                           int M, int N, int K, int accumulate) {
    __shared__ __align__(16) GemmSmem sm;
    gemm_tile<OUT>(sm, A, lda, nullptr, blockIdx.y * GB_BM, M, W, N, K, C, ldc, accumulate, blockIdx.x * GB_BN);
}

template <typename OUT>
__device__ void grouped_entry(const __nv_bfloat16* A, int lda, const int* rowIndex, const int* offsets, int experts,
                              const __nv_bfloat16* W, OUT* C, int ldc, int N, int K, int accumulate) {
    __shared__ __align__(16) GemmSmem sm;
    int e, row;
    if (!rc_block_segment(offsets, experts, GB_BM, blockIdx.y, &e, &row)) return;
    gemm_tile<OUT>(sm, A, lda, rowIndex, row, offsets[e + 1], W + (long long)e * N * K, N, K, C, ldc,
                   accumulate, blockIdx.x * GB_BN);
}

extern "C" __global__ void __launch_bounds__(256) gemm_bf16_f32(const __nv_bfloat16* A, int lda,
        const __nv_bfloat16* W, float* C, int ldc, int M, int N, int K, int accumulate) {
    gemm_entry<float>(A, lda, W, C, ldc, M, N, K, accumulate);
}
extern "C" __global__ void __launch_bounds__(256) gemm_bf16_bf16(const __nv_bfloat16* A, int lda,
        const __nv_bfloat16* W, __nv_bfloat16* C, int ldc, int M, int N, int K, int accumulate) {
    gemm_entry<__nv_bfloat16>(A, lda, W, C, ldc, M, N, K, accumulate);
}
extern "C" __global__ void __launch_bounds__(256) grouped_gemm_bf16_f32(const __nv_bfloat16* A, int lda,
        const int* rowIndex, const int* offsets, int experts, const __nv_bfloat16* W, float* C, int ldc,
        int N, int K, int accumulate) {
    grouped_entry<float>(A, lda, rowIndex, offsets, experts, W, C, ldc, N, K, accumulate);
}
extern "C" __global__ void __launch_bounds__(256) grouped_gemm_bf16_bf16(const __nv_bfloat16* A, int lda,
        const int* rowIndex, const int* offsets, int experts, const __nv_bfloat16* W, __nv_bfloat16* C, int ldc,
        int N, int K, int accumulate) {
    grouped_entry<__nv_bfloat16>(A, lda, rowIndex, offsets, experts, W, C, ldc, N, K, accumulate);
}
