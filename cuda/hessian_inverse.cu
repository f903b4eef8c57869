// hessian_inverse.cu — GPTQ's factor of the inverse Hessian on the GPU, batched over experts: for each H_b,
//   fix dead columns (diag 0 → 1), damp (+ dampFraction · mean(diag) · I), and return U_b, the upper Cholesky factor
//   of H_b⁻¹ (Uᵀ U = H⁻¹), which gptq_sweep.cu consumes. Same result as llm-compressor's
//   cholesky(cholesky_inverse(cholesky(H)), upper=True), with one factorization instead of three, using
//     A = J H J (J reverses indices),  A = M Mᵀ (M lower),  then  U = J M⁻¹ J
//   (H⁻¹ = J A⁻¹ J = (J M⁻ᵀ J)(J M⁻¹ J), and J·lower·J is upper).
//
// Layout:  H [batches, K, K] fp32 (read only), work [batches, K, K] fp32 scratch (holds M), U [batches, K, K] fp32
//          out (lower triangle zeroed), status [batches] int32: 0 = ok, j+1 = A not positive definite at column j
//          (the caller falls back, as llm-compressor does, to an identity factor = RTN for that matrix).
// Variants: 1. hinv_upper_b1 — one 1024-thread block per matrix, unblocked right-looking Cholesky on global memory
//              (column j staged in shared memory so the rank-1 trailing update is coalesced along rows), then M⁻¹
//              row by row (row i of M in shared memory, threads over columns). about K³/2 multiply-adds per matrix; with 128
//              experts the batch fills the GPU. K ≤ 4096 (shared memory: 2·K floats).
// Launch: grid (batches), block 1024, dynamic shared memory 0 (static 32 KiB).
#include "common.cuh"

#define HI_MAXK 4096

extern "C" __global__ void __launch_bounds__(1024) hinv_upper_b1(const float* H, float* work, float* U, int K,
                                                                 float dampFraction, int* status) {
    __shared__ float col[HI_MAXK];
    __shared__ float scratch[32];
    __shared__ float pivot;
    __shared__ int failed;
    int b = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    int lane = tid & 31, warp = tid >> 5, nwarps = nt >> 5;
    const float* h = H + (size_t)b * K * K;
    float* a = work + (size_t)b * K * K;
    float* u = U + (size_t)b * K * K;

    // 1. mean of the (dead-fixed) diagonal, then A = J H J + damp·I, lower triangle only.
    float s = 0.f;
    for (int i = tid; i < K; i += nt) {
        float d = h[(size_t)i * K + i];
        s += d == 0.f ? 1.f : d;
    }
    float damp = dampFraction * rc_block_sum(s, scratch) / K;
    for (size_t idx = tid; idx < (size_t)K * K; idx += nt) {
        int i = (int)(idx / K), j = (int)(idx % K);
        if (j > i) continue;
        float v = h[(size_t)(K - 1 - i) * K + (K - 1 - j)];
        if (i == j) v = (v == 0.f ? 1.f : v) + damp;
        a[idx] = v;
    }
    if (tid == 0) failed = 0;
    __syncthreads();

    // 2. Cholesky A = M Mᵀ in place (lower).
    for (int j = 0; j < K; ++j) {
        if (tid == 0) {
            float d = a[(size_t)j * K + j];
            if (!(d > 0.f)) failed = j + 1;
            pivot = sqrtf(d);
            a[(size_t)j * K + j] = pivot;
        }
        __syncthreads();
        if (failed) break;
        for (int i = j + 1 + tid; i < K; i += nt) {
            float v = a[(size_t)i * K + j] / pivot;
            a[(size_t)i * K + j] = v;
            col[i] = v;
        }
        __syncthreads();
        for (int i = j + 1 + warp; i < K; i += nwarps) {
            float ci = col[i];
            float* row = a + (size_t)i * K;
            for (int l = j + 1 + lane; l <= i; l += 32) row[l] -= ci * col[l];
        }
        __syncthreads();
    }
    if (failed) {
        if (tid == 0) status[b] = failed;
        return;
    }

    // 3. Minv = M⁻¹ row by row: Minv[i][c] = −(Σ_{m=c}^{i−1} M[i][m] · Minv[m][c]) / M[i][i], Minv[i][i] = 1/M[i][i];
    //    stored straight into U[K−1−i][K−1−c] (U = J Minv J), whose rows are then read back for later rows.
    for (int i = 0; i < K; ++i) {
        for (int m = tid; m <= i; m += nt) col[m] = a[(size_t)i * K + m];
        __syncthreads();
        float inv = 1.f / col[i];
        float* urow = u + (size_t)(K - 1 - i) * K;
        for (int c = tid; c < K; c += nt) {
            float v;
            if (c > i) {
                v = 0.f;
            } else if (c == i) {
                v = inv;
            } else {
                // Sum from m = 0, not c: Minv[m][c] = 0 for m < c (already stored), and a common range keeps the
                // warp's loads of one U row contiguous.
                float acc = 0.f;
                for (int m = 0; m < i; ++m) acc += col[m] * u[(size_t)(K - 1 - m) * K + (K - 1 - c)];
                v = -acc * inv;
            }
            urow[K - 1 - c] = v;
        }
        __syncthreads();
    }
    if (tid == 0) status[b] = 0;
}
