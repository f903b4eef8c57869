// attention_ext.cu — causal GQA attention with the extensions the newer families need, for any layout
// attention_prefill.cu and attention_general.cu do not take:
//   - query/key heads of width Dk and value/output heads of width Dv (MLA: Dk = nope + rope, Dv = v_head_dim), each
//     any size ≤ 256 (not only multiples of 32);
//   - a sliding window (GPT-OSS's sliding layers) and chunks (Llama 4's chunked layers);
//   - attention sinks (GPT-OSS): one logit per head that joins every softmax and whose probability is dropped.
//
// Layout:  q [Tq, Hq·Dk] fp32 (stride ldq); k [Tkv, Hkv·Dk] (stride ldk); v [Tkv, Hkv·Dv] (stride ldv);
//          out [Tq, Hq·Dv] (stride ldo); qStart, kvStart [numSeqs + 1] int32 as in attention_general.cu: sequence s's
//          qLen queries are the LAST qLen of its kvLen positions, so query i sits at p = kvLen − qLen + i. It sees keys
//          j ≤ p with j > p − window (window > 0) and j ≥ ⌊p / chunk⌋·chunk (chunk > 0). sinks [Hq] fp32 or null.
// Math: per (query, head) an online softmax in fp32 over scale · q·k; with a sink the running max starts at sinks[h]
//       and the running sum at exp(sinks[h] − sinks[h]) = 1, so p_j = exp(s_j) / (Σ exp(s_i) + exp(sink)).
// Variants: 1. attention_ext — one warp per (query row, head); lane j scores key j of each 32-key chunk (every lane
//              reads its key's Dk values; q is broadcast by shuffles from the lane that holds each dimension), then
//              every lane accumulates output dims lane, lane + 32, … < Dv. Register arrays are indexed only with
//              compile-time indices (the loops over them are unrolled), so nothing spills to local memory.
// Launch: grid (ceil(Tq / 4), Hq), block 128 (4 warps = 4 query rows).
#include "common.cuh"

#define AE_MAX_DPL 8  // dims per lane: head widths up to 256

extern "C" __global__ void attention_ext(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv,
                                         float* out, int ldo, const int* qStart, const int* kvStart, int numSeqs,
                                         int totalQ, int hq, int hkv, int Dk, int Dv, float scale, int window, int chunk,
                                         const float* sinks) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int row = blockIdx.x * 4 + warp;
    int h = blockIdx.y;
    if (row >= totalQ) return;
    int s = 0;
    while (s + 1 < numSeqs && qStart[s + 1] <= row) ++s;
    int qLen = qStart[s + 1] - qStart[s], kvLen = kvStart[s + 1] - kvStart[s];
    int p = kvLen - qLen + (row - qStart[s]);
    int first = window > 0 ? max(0, p - window + 1) : 0;
    if (chunk > 0) first = max(first, p / chunk * chunk);
    int hk = h / (hq / hkv);
    const float* qr = q + (size_t)row * ldq + (size_t)h * Dk;
    float qv[AE_MAX_DPL], acc[AE_MAX_DPL];
#pragma unroll
    for (int i = 0; i < AE_MAX_DPL; ++i) {
        int d = lane + 32 * i;
        qv[i] = d < Dk ? qr[d] : 0.f;
        acc[i] = 0.f;
    }
    float m = sinks ? sinks[h] : -INFINITY, l = sinks ? 1.f : 0.f;
    for (int j0 = first; j0 <= p; j0 += 32) {
        int j = j0 + lane;
        // every lane takes part in the shuffles: lanes past p score a clamped (valid) key and are masked to −inf
        const float* kr = k + (size_t)(kvStart[s] + min(j, p)) * ldk + (size_t)hk * Dk;
        float dot = 0.f;
#pragma unroll
        for (int i = 0; i < AE_MAX_DPL; ++i) {
            int base = 32 * i, n = min(32, Dk - base);   // uniform across the warp
            for (int src = 0; src < n; ++src) dot = fmaf(__shfl_sync(0xffffffffu, qv[i], src), kr[base + src], dot);
        }
        float sc = j <= p ? dot * scale : -INFINITY;
        float mNew = fmaxf(m, rc_warp_max(sc));
        float pj = j <= p ? expf(sc - mNew) : 0.f;
        float corr = expf(m - mNew);
        l = l * corr + rc_warp_sum(pj);
#pragma unroll
        for (int i = 0; i < AE_MAX_DPL; ++i) acc[i] *= corr;
        int keys = min(32, p - j0 + 1);
        for (int jj = 0; jj < keys; ++jj) {
            float pjj = __shfl_sync(0xffffffffu, pj, jj);
            const float* vr = v + (size_t)(kvStart[s] + j0 + jj) * ldv + (size_t)hk * Dv;
#pragma unroll
            for (int i = 0; i < AE_MAX_DPL; ++i) {
                int d = lane + 32 * i;
                if (d < Dv) acc[i] = fmaf(pjj, vr[d], acc[i]);
            }
        }
        m = mNew;
    }
    float* o = out + (size_t)row * ldo + (size_t)h * Dv;
#pragma unroll
    for (int i = 0; i < AE_MAX_DPL; ++i) {
        int d = lane + 32 * i;
        if (d < Dv) o[d] = acc[i] / l;
    }
}
