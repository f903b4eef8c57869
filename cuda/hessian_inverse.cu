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
//           2. hinv_upper_f64 — the same in double (see below); K ≤ 3072. The solver uses variant 2.
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

// Variant 2. hinv_upper_f64 — the same steps in double (H read as fp32, U written as fp32): fp32 Cholesky of a damped
// Hessian with condition number up to ~1e5 loses several digits, and the host solver factorises in double; the
// H100/H200 class has the fp64 throughput for it. M is kept in the lower triangle of `work` (double), M⁻¹ in its
// upper triangle (Minv[i][c] at work[c][i], c < i; the diagonal 1/M[i][i] is recomputed), so no intermediate is
// rounded to fp32. work is [batches, K, K] double.
extern "C" __global__ void __launch_bounds__(1024) hinv_upper_f64(const float* H, double* work, float* U, int K,
                                                                  float dampFraction, int* status) {
    __shared__ double col[HI_MAXK / 2 + 1024];  // 24 KiB; K ≤ 3072 in this variant (checked on the host)
    __shared__ double scratchD[32];
    __shared__ double pivot;
    __shared__ int failed;
    int b = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    int lane = tid & 31, warp = tid >> 5, nwarps = nt >> 5;
    const float* h = H + (size_t)b * K * K;
    double* a = work + (size_t)b * K * K;
    float* u = U + (size_t)b * K * K;

    double s = 0.0;
    for (int i = tid; i < K; i += nt) {
        double d = h[(size_t)i * K + i];
        s += d == 0.0 ? 1.0 : d;
    }
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) scratchD[warp] = s;
    __syncthreads();
    if (tid == 0) {
        double t = 0.0;
        for (int w = 0; w < nwarps; ++w) t += scratchD[w];
        pivot = (double)dampFraction * t / K;  // pivot holds damp until the factorization starts
        failed = 0;
    }
    __syncthreads();
    double damp = pivot;
    for (size_t idx = tid; idx < (size_t)K * K; idx += nt) {
        int i = (int)(idx / K), j = (int)(idx % K);
        if (j > i) continue;
        double v = h[(size_t)(K - 1 - i) * K + (K - 1 - j)];
        if (i == j) v = (v == 0.0 ? 1.0 : v) + damp;
        a[idx] = v;
    }
    __syncthreads();

    for (int j = 0; j < K; ++j) {
        if (tid == 0) {
            double d = a[(size_t)j * K + j];
            if (!(d > 0.0)) failed = j + 1;
            pivot = sqrt(d);
            a[(size_t)j * K + j] = pivot;
        }
        __syncthreads();
        if (failed) break;
        for (int i = j + 1 + tid; i < K; i += nt) {
            double v = a[(size_t)i * K + j] / pivot;
            a[(size_t)i * K + j] = v;
            col[i] = v;
        }
        __syncthreads();
        for (int i = j + 1 + warp; i < K; i += nwarps) {
            double ci = col[i];
            double* row = a + (size_t)i * K;
            for (int l = j + 1 + lane; l <= i; l += 32) row[l] -= ci * col[l];
        }
        __syncthreads();
    }
    if (failed) {
        if (tid == 0) status[b] = failed;
        return;
    }

    // Minv row by row: Minv[i][c] = −(Σ_{m=c}^{i−1} M[i][m]·Minv[m][c]) / M[i][i] for c < i, stored J-reflected at
    // work[K−1−i][K−1−c] (strictly upper: never over M), so one m step reads contiguous addresses across threads c;
    // Minv[c][c] = 1 / M[c][c] is recomputed from M's untouched diagonal.
    for (int i = 0; i < K; ++i) {
        for (int m = tid; m <= i; m += nt) col[m] = a[(size_t)i * K + m];
        __syncthreads();
        double inv = 1.0 / col[i];
        for (int c = tid; c < i; c += nt) {
            double acc = col[c] / a[(size_t)c * K + c];
            // every thread walks m from 0 so a warp's loads at one step are one contiguous row segment
            for (int m = 0; m < i; ++m) if (m > c) acc += col[m] * a[(size_t)(K - 1 - m) * K + (K - 1 - c)];
            a[(size_t)(K - 1 - i) * K + (K - 1 - c)] = -acc * inv;
        }
        __syncthreads();
    }
    // U = J Minv J: U[p][q] = Minv[K−1−p][K−1−q], i.e. work[p][q] above the diagonal, 1/M on it, 0 below
    for (size_t idx = tid; idx < (size_t)K * K; idx += nt) {
        int p = (int)(idx / K), q = (int)(idx % K);
        double v = q < p ? 0.0 : (q == p ? 1.0 / a[(size_t)(K - 1 - p) * K + (K - 1 - p)] : a[idx]);
        u[idx] = (float)v;
    }
    if (tid == 0) status[b] = 0;
}
