// attention_prefill.cu — causal self-attention for prefill, flash-style (online softmax, no [T, T] score matrix),
// with grouped-query attention and packed variable-length sequences.
//
// Layout:  q [tokens, Hq·D] fp32 (token stride ldq), k and v [tokens, Hkv·D] fp32 (strides ldk, ldv) — q/k/v may be
//          slices of one fused qkv row; q and k already have RoPE (and Qwen3's q/k norm) applied.
//          seqStart [numSeqs + 1] int32: sequence s owns token rows seqStart[s]..seqStart[s+1]−1; positions restart
//          at 0 in every sequence, and a query attends to keys of its own sequence at positions ≤ its own.
//          out [tokens, Hq·D] fp32 (stride ldo). Query head h reads KV head h / (Hq / Hkv).
// Math: out = softmax(scale · q kᵀ + causal mask) v, softmax in fp32 with running max/sum (exact up to rounding).
// Variants: 1. attention_prefill_d{64,128} — CUDA-core fp32; a block handles 16 query rows of one head (4 warps × 4
//              rows); key/value tiles of 32 rows are staged in shared memory; in the score phase lane j owns key j,
//              in the value phase lane l owns dimensions l, l+32, …  (40.5 KiB static smem at D = 128).
// Launch: grid (ceil(tokens/16) + numSeqs, Hq), block 128; surplus blocks exit (rc_segment_tile).
#include "common.cuh"

#define AT_BQ 16
#define AT_BKV 32
#define AT_ROWS_PER_WARP 4

template <int D>
__device__ void attention_prefill_impl(const float* __restrict__ q, int ldq, const float* __restrict__ k, int ldk,
                                       const float* __restrict__ v, int ldv, float* __restrict__ out, int ldo,
                                       const int* __restrict__ seqStart, int numSeqs, int hq, int hkv, float scale) {
    constexpr int DPL = D / 32;  // dimensions per lane in the value phase
    __shared__ float qs[AT_BQ][D];
    __shared__ float ks[AT_BKV][D + 1];
    __shared__ float vs[AT_BKV][D];
    __shared__ int segInfo[2];
    if (threadIdx.x == 0) {
        int seg = -1, row = 0;
        if (!rc_segment_tile(seqStart, numSeqs, AT_BQ, blockIdx.x, &seg, &row)) seg = -1;
        segInfo[0] = seg;
        segInfo[1] = row;
    }
    __syncthreads();
    int seg = segInfo[0];
    if (seg < 0) return;
    int segBegin = seqStart[seg], segEnd = seqStart[seg + 1];
    int q0 = segInfo[1];
    int h = blockIdx.y, hk = h / (hq / hkv);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

    for (int idx = threadIdx.x; idx < AT_BQ * D; idx += blockDim.x) {
        int r = idx / D, d = idx % D;
        int row = min(q0 + r, segEnd - 1);  // rows past the sequence repeat its last row and are never written
        qs[r][d] = q[(size_t)row * ldq + (size_t)h * D + d] * scale;
    }
    float m[AT_ROWS_PER_WARP], l[AT_ROWS_PER_WARP], acc[AT_ROWS_PER_WARP][DPL];
    int qpos[AT_ROWS_PER_WARP];
#pragma unroll
    for (int r = 0; r < AT_ROWS_PER_WARP; ++r) {
        m[r] = -INFINITY;
        l[r] = 0.f;
        qpos[r] = min(q0 + warp * AT_ROWS_PER_WARP + r, segEnd - 1) - segBegin;
#pragma unroll
        for (int c = 0; c < DPL; ++c) acc[r][c] = 0.f;
    }
    int lastQuery = min(q0 + AT_BQ, segEnd) - 1;  // keys beyond the block's last query are masked for every row
    for (int kt = segBegin; kt <= lastQuery; kt += AT_BKV) {
        __syncthreads();  // previous tile fully consumed (and qs visible on the first pass)
        for (int idx = threadIdx.x; idx < AT_BKV * D; idx += blockDim.x) {
            int j = idx / D, d = idx % D;
            int key = kt + j;
            bool ok = key < segEnd;
            ks[j][d] = ok ? k[(size_t)key * ldk + (size_t)hk * D + d] : 0.f;
            vs[j][d] = ok ? v[(size_t)key * ldv + (size_t)hk * D + d] : 0.f;
        }
        __syncthreads();
        float s[AT_ROWS_PER_WARP];
#pragma unroll
        for (int r = 0; r < AT_ROWS_PER_WARP; ++r) s[r] = 0.f;
        for (int d = 0; d < D; ++d) {
            float kv = ks[lane][d];
#pragma unroll
            for (int r = 0; r < AT_ROWS_PER_WARP; ++r) s[r] += qs[warp * AT_ROWS_PER_WARP + r][d] * kv;
        }
        int keyPos = kt + lane - segBegin;
#pragma unroll
        for (int r = 0; r < AT_ROWS_PER_WARP; ++r) {
            float sr = keyPos <= qpos[r] ? s[r] : -INFINITY;
            float mNew = fmaxf(m[r], rc_warp_max(sr));  // finite: key 0 of the tile range is ≤ every qpos
            float p = sr == -INFINITY ? 0.f : expf(sr - mNew);
            float corr = m[r] == -INFINITY ? 0.f : expf(m[r] - mNew);
            l[r] = l[r] * corr + rc_warp_sum(p);
            m[r] = mNew;
#pragma unroll
            for (int c = 0; c < DPL; ++c) acc[r][c] *= corr;
            for (int j = 0; j < AT_BKV; ++j) {
                float pj = __shfl_sync(0xffffffffu, p, j);
#pragma unroll
                for (int c = 0; c < DPL; ++c) acc[r][c] += pj * vs[j][lane + 32 * c];
            }
        }
    }
#pragma unroll
    for (int r = 0; r < AT_ROWS_PER_WARP; ++r) {
        int row = q0 + warp * AT_ROWS_PER_WARP + r;
        if (row >= segEnd) continue;
        float inv = 1.f / l[r];
#pragma unroll
        for (int c = 0; c < DPL; ++c) out[(size_t)row * ldo + (size_t)h * D + lane + 32 * c] = acc[r][c] * inv;
    }
}

extern "C" __global__ void __launch_bounds__(128) attention_prefill_d128(const float* q, int ldq, const float* k,
        int ldk, const float* v, int ldv, float* out, int ldo, const int* seqStart, int numSeqs, int hq, int hkv,
        float scale) {
    attention_prefill_impl<128>(q, ldq, k, ldk, v, ldv, out, ldo, seqStart, numSeqs, hq, hkv, scale);
}
extern "C" __global__ void __launch_bounds__(128) attention_prefill_d64(const float* q, int ldq, const float* k,
        int ldk, const float* v, int ldv, float* out, int ldo, const int* seqStart, int numSeqs, int hq, int hkv,
        float scale) {
    attention_prefill_impl<64>(q, ldq, k, ldk, v, ldv, out, ldo, seqStart, numSeqs, hq, hkv, scale);
}
