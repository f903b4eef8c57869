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
//           2. attention_prefill_tc_d{64,128} — tensor cores (mma.sync m16n8k16, bf16 in, fp32 accumulate), flash-attention-2
//              order, at fp32 accuracy: every fp32 operand x enters as two bf16 terms, hi = bf16(x) and
//              lo = bf16(x − hi) (about 16 significant bits together), and each product takes the three terms that
//              matter: q·kᵀ = qh·khᵀ + qh·klᵀ + ql·khᵀ, p·v = ph·vh + pl·vh + ph·vl (the lo·lo term is below 2^-16 of
//              the result). So the kernel computes the fp32 reference's attention (parity NMSE ~1e-12, not a bf16
//              approximation: rounding q, k, v to bf16 made GLM-4.5's bf16 logits farther from HF fp32 than HF bf16's),
//              at 3× the tensor-core work of a plain bf16 kernel. A block of 4 warps takes 64 query rows of one head
//              (16 per warp, Q fragments held in registers); key/value tiles of 64 rows are read as fp32, split and
//              staged in shared memory, K as [key][dim] and V transposed as [dim][key] so every B fragment is one
//              32-bit load (row pitches D + 8 and 72 bf16: a fragment's 8 rows × 4 pairs fall in 32 distinct banks).
//              The score tile's accumulator layout is the A fragment of P·V (two n-tiles of 8 keys = one k-step of
//              16), so P never touches shared memory. Row sums stay per lane until the end (one quad reduction).
//              Needs ld{q,k,v} % 4 == 0 and 16-byte aligned q, k, v (float4 loads; checked in CudaBackend).
// Launch: variant 1 grid (ceil(tokens/16) + numSeqs, Hq), block 128; variant 2 grid (ceil(tokens/64) + numSeqs, Hq),
//         block 128, dynamic smem (70 KiB at D = 128, 36 KiB at D = 64); surplus blocks exit (rc_segment_tile).
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
    int seg, q0;
    if (!rc_block_segment(seqStart, numSeqs, AT_BQ, blockIdx.x, &seg, &q0)) return;
    int segBegin = seqStart[seg], segEnd = seqStart[seg + 1];
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

// ---- variant 2: tensor cores ----------------------------------------------------------------------------------------

#define TC_BQ 64
#define TC_BKV 64

// hi and lo bf16 terms of two floats, packed as the fragments want them (first float in the low half)
__device__ __forceinline__ void rc_split_bf16(float a, float b, unsigned& hi, unsigned& lo) {
    __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
    hi = *reinterpret_cast<unsigned*>(&h);
    lo = rc_pack_bf16(a - __bfloat162float(h.x), b - __bfloat162float(h.y));
}

template <int D>
struct TcSmem {
    static constexpr int KP = D + 8;       // K row pitch (bf16)
    static constexpr int VP = TC_BKV + 8;  // Vᵀ row pitch (bf16)
    __nv_bfloat16 kh[TC_BKV][KP], kl[TC_BKV][KP];  // also stage Q's terms first (TC_BQ == TC_BKV)
    __nv_bfloat16 vh[D][VP], vl[D][VP];
};

template <int D>
__device__ void attention_tc_impl(const float* __restrict__ q, int ldq, const float* __restrict__ k, int ldk,
                                  const float* __restrict__ v, int ldv, float* __restrict__ out, int ldo,
                                  const int* __restrict__ seqStart, int numSeqs, int hq, int hkv, float scale) {
    constexpr int DK = D / 16;      // k-steps of Q·Kᵀ
    constexpr int DN = D / 8;       // n-tiles of P·V
    constexpr int NS = TC_BKV / 8;  // n-tiles of the score tile
    extern __shared__ __align__(16) unsigned char tcDynamic[];
    TcSmem<D>& sm = *reinterpret_cast<TcSmem<D>*>(tcDynamic);
    int seg, q0;
    if (!rc_block_segment(seqStart, numSeqs, TC_BQ, blockIdx.x, &seg, &q0)) return;
    int segBegin = seqStart[seg], segEnd = seqStart[seg + 1];
    int h = blockIdx.y, hk = h / (hq / hkv);
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
    int wr = warp * 16;

    for (int idx = tid; idx < TC_BQ * D / 4; idx += 128) {
        int r = idx / (D / 4), c = (idx % (D / 4)) * 4;
        int row = min(q0 + r, segEnd - 1);  // rows past the sequence repeat its last row and are never written
        float4 x = *reinterpret_cast<const float4*>(q + (size_t)row * ldq + (size_t)h * D + c);
        uint2 hi, lo;
        rc_split_bf16(x.x, x.y, hi.x, lo.x);
        rc_split_bf16(x.z, x.w, hi.y, lo.y);
        *reinterpret_cast<uint2*>(&sm.kh[r][c]) = hi;
        *reinterpret_cast<uint2*>(&sm.kl[r][c]) = lo;
    }
    __syncthreads();
    unsigned qh[DK][4], ql[DK][4];
#pragma unroll
    for (int kk = 0; kk < DK; ++kk) {
        int c = kk * 16 + 2 * t;
        qh[kk][0] = rc_ld32(&sm.kh[wr + g][c]);
        qh[kk][1] = rc_ld32(&sm.kh[wr + g + 8][c]);
        qh[kk][2] = rc_ld32(&sm.kh[wr + g][c + 8]);
        qh[kk][3] = rc_ld32(&sm.kh[wr + g + 8][c + 8]);
        ql[kk][0] = rc_ld32(&sm.kl[wr + g][c]);
        ql[kk][1] = rc_ld32(&sm.kl[wr + g + 8][c]);
        ql[kk][2] = rc_ld32(&sm.kl[wr + g][c + 8]);
        ql[kk][3] = rc_ld32(&sm.kl[wr + g + 8][c + 8]);
    }
    float o[DN][4];
#pragma unroll
    for (int n = 0; n < DN; ++n)
#pragma unroll
        for (int r = 0; r < 4; ++r) o[n][r] = 0.f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
    // positions of this lane's two rows (g and g + 8); rows past the sequence keep their nominal position
    int qpos[2] = {q0 + wr + g - segBegin, q0 + wr + g + 8 - segBegin};
    const float scaleLog2 = scale * 1.4426950408889634f;  // exp(x) = exp2(x · log2 e)
    int lastQuery = min(q0 + TC_BQ, segEnd) - 1;
    // Tiles start at segBegin + 64·i and q0 = segBegin + 64·j, so every tile's first key is visible to every row:
    // a row's running max is finite after its first tile.
    for (int kt = segBegin; kt <= lastQuery; kt += TC_BKV) {
        __syncthreads();  // Q fragments taken / previous tile consumed
        for (int idx = tid; idx < TC_BKV * D / 4; idx += 128) {
            int j = idx / (D / 4), c = (idx % (D / 4)) * 4, key = kt + j;
            float4 x = key < segEnd ? *reinterpret_cast<const float4*>(k + (size_t)key * ldk + (size_t)hk * D + c)
                                    : make_float4(0.f, 0.f, 0.f, 0.f);
            uint2 hi, lo;
            rc_split_bf16(x.x, x.y, hi.x, lo.x);
            rc_split_bf16(x.z, x.w, hi.y, lo.y);
            *reinterpret_cast<uint2*>(&sm.kh[j][c]) = hi;
            *reinterpret_cast<uint2*>(&sm.kl[j][c]) = lo;
        }
        for (int idx = tid; idx < (TC_BKV / 2) * (D / 4); idx += 128) {
            int j = (idx / (D / 4)) * 2, c = (idx % (D / 4)) * 4, key = kt + j;
            float4 a = key < segEnd ? *reinterpret_cast<const float4*>(v + (size_t)key * ldv + (size_t)hk * D + c)
                                    : make_float4(0.f, 0.f, 0.f, 0.f);
            float4 b = key + 1 < segEnd ? *reinterpret_cast<const float4*>(v + (size_t)(key + 1) * ldv + (size_t)hk * D + c)
                                        : make_float4(0.f, 0.f, 0.f, 0.f);
            const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                unsigned hi, lo;
                rc_split_bf16(av[i], bv[i], hi, lo);
                *reinterpret_cast<unsigned*>(&sm.vh[c + i][j]) = hi;
                *reinterpret_cast<unsigned*>(&sm.vl[c + i][j]) = lo;
            }
        }
        __syncthreads();

        // S = Q Kᵀ for the warp's 16 rows × 64 keys: qh·kh + qh·kl + ql·kh
        float s[NS][4];
#pragma unroll
        for (int n = 0; n < NS; ++n) {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
            for (int kk = 0; kk < DK; ++kk) {
                const __nv_bfloat16* kr = &sm.kh[n * 8 + g][kk * 16 + 2 * t];
                const __nv_bfloat16* lr = &sm.kl[n * 8 + g][kk * 16 + 2 * t];
                unsigned bh0 = rc_ld32(kr), bh1 = rc_ld32(kr + 8), bl0 = rc_ld32(lr), bl1 = rc_ld32(lr + 8);
                rc_mma_bf16(s[n], ql[kk][0], ql[kk][1], ql[kk][2], ql[kk][3], bh0, bh1);
                rc_mma_bf16(s[n], qh[kk][0], qh[kk][1], qh[kk][2], qh[kk][3], bl0, bl1);
                rc_mma_bf16(s[n], qh[kk][0], qh[kk][1], qh[kk][2], qh[kk][3], bh0, bh1);
            }
        }
        // mask, scale (log2 domain), online softmax; accumulator element r is row g + 8·(r/2), key 2t + (r%2)
        float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int n = 0; n < NS; ++n)
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                int key = kt + n * 8 + 2 * t + (r & 1);
                bool ok = key < segEnd && key - segBegin <= qpos[r >> 1];
                s[n][r] = ok ? s[n][r] * scaleLog2 : -INFINITY;
                mx[r >> 1] = fmaxf(mx[r >> 1], s[n][r]);
            }
        float corr[2];
#pragma unroll
        for (int i = 0; i < 2; ++i) {
            mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
            mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
            float mNew = fmaxf(m[i], mx[i]);
            corr[i] = exp2f(m[i] - mNew);  // 0 on the first tile (m = -inf)
            m[i] = mNew;
            l[i] *= corr[i];
        }
#pragma unroll
        for (int n = 0; n < NS; ++n)
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                float p = exp2f(s[n][r] - m[r >> 1]);  // masked: exp2(-inf) = 0
                s[n][r] = p;
                l[r >> 1] += p;
            }
#pragma unroll
        for (int n = 0; n < DN; ++n) {
            o[n][0] *= corr[0];
            o[n][1] *= corr[0];
            o[n][2] *= corr[1];
            o[n][3] *= corr[1];
        }
        // O += P V: ph·vh + pl·vh + ph·vl; key step j covers score n-tiles 2j and 2j + 1
#pragma unroll
        for (int j = 0; j < TC_BKV / 16; ++j) {
            const float* p0 = s[2 * j];
            const float* p1 = s[2 * j + 1];
            unsigned ph[4], pl[4];
            rc_split_bf16(p0[0], p0[1], ph[0], pl[0]);
            rc_split_bf16(p0[2], p0[3], ph[1], pl[1]);
            rc_split_bf16(p1[0], p1[1], ph[2], pl[2]);
            rc_split_bf16(p1[2], p1[3], ph[3], pl[3]);
#pragma unroll
            for (int n = 0; n < DN; ++n) {
                const __nv_bfloat16* vr = &sm.vh[n * 8 + g][j * 16 + 2 * t];
                const __nv_bfloat16* wr2 = &sm.vl[n * 8 + g][j * 16 + 2 * t];
                unsigned bh0 = rc_ld32(vr), bh1 = rc_ld32(vr + 8), bl0 = rc_ld32(wr2), bl1 = rc_ld32(wr2 + 8);
                rc_mma_bf16(o[n], pl[0], pl[1], pl[2], pl[3], bh0, bh1);
                rc_mma_bf16(o[n], ph[0], ph[1], ph[2], ph[3], bl0, bl1);
                rc_mma_bf16(o[n], ph[0], ph[1], ph[2], ph[3], bh0, bh1);
            }
        }
    }
#pragma unroll
    for (int i = 0; i < 2; ++i) {
        float sum = l[i];
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        int row = q0 + wr + g + 8 * i;
        if (row >= segEnd) continue;
        float inv = 1.f / sum;
        float* dst = out + (size_t)row * ldo + (size_t)h * D + 2 * t;
#pragma unroll
        for (int n = 0; n < DN; ++n)
            *reinterpret_cast<float2*>(dst + n * 8) = make_float2(o[n][2 * i] * inv, o[n][2 * i + 1] * inv);
    }
}

extern "C" __global__ void __launch_bounds__(128) attention_prefill_tc_d128(const float* q, int ldq, const float* k,
        int ldk, const float* v, int ldv, float* out, int ldo, const int* seqStart, int numSeqs, int hq, int hkv,
        float scale) {
    attention_tc_impl<128>(q, ldq, k, ldk, v, ldv, out, ldo, seqStart, numSeqs, hq, hkv, scale);
}
extern "C" __global__ void __launch_bounds__(128) attention_prefill_tc_d64(const float* q, int ldq, const float* k,
        int ldk, const float* v, int ldv, float* out, int ldo, const int* seqStart, int numSeqs, int hq, int hkv,
        float scale) {
    attention_tc_impl<64>(q, ldq, k, ldk, v, ldv, out, ldo, seqStart, numSeqs, hq, hkv, scale);
}
