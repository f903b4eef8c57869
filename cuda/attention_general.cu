// attention_general.cu — causal GQA attention for the layouts attention_prefill.cu does not cover: queries that are
// the last positions of a longer key sequence (decoding after a KV cache) and sliding windows.
//
// Layout:  q [Tq, Hq·D] fp32 (stride ldq); k, v [Tkv, Hkv·D] fp32 (strides ldk, ldv); out [Tq, Hq·D] (stride ldo).
//          qStart, kvStart [numSeqs + 1] int32: sequence s owns query rows qStart[s].. and key rows kvStart[s]..;
//          its qLen queries are the LAST qLen of its kvLen positions, so query i sits at p = kvLen − qLen + i and sees
//          keys j ≤ p (and j > p − window when window > 0).
// Math: softmax(scale · q kᵀ) v per (query, head) with a running max and sum in fp32 (online softmax).
// Variants: 1. attention_general — one warp per (query row, head); lane j scores key j of each 32-key chunk, then
//              every lane accumulates its D/32 output dimensions; D ≤ 256 and a multiple of 32.
// Launch: grid (ceil(Tq / 4), Hq), block 128 (4 warps = 4 query rows).
#include "common.cuh"

#define AG_MAX_DPL 8

extern "C" __global__ void attention_general(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv,
                                             float* out, int ldo, const int* qStart, const int* kvStart, int numSeqs,
                                             int totalQ, int hq, int hkv, int D, float scale, int window) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int row = blockIdx.x * 4 + warp;
    int h = blockIdx.y;
    if (row >= totalQ) return;
    int s = 0;
    while (s + 1 < numSeqs && qStart[s + 1] <= row) ++s;
    int qLen = qStart[s + 1] - qStart[s], kvLen = kvStart[s + 1] - kvStart[s];
    int p = kvLen - qLen + (row - qStart[s]);
    int first = window > 0 ? max(0, p - window + 1) : 0;
    int hk = h / (hq / hkv), dpl = D / 32;
    const float* qr = q + (size_t)row * ldq + (size_t)h * D;
    float qv[AG_MAX_DPL], acc[AG_MAX_DPL];
    for (int d = 0; d < dpl; ++d) { qv[d] = qr[lane + 32 * d]; acc[d] = 0.f; }
    float m = -INFINITY, l = 0.f;
    for (int j0 = first; j0 <= p; j0 += 32) {
        int j = j0 + lane;
        // every lane takes part in the shuffles: lanes past p score a clamped (valid) key and are masked to −inf
        const float* kr = k + (size_t)(kvStart[s] + min(j, p)) * ldk + (size_t)hk * D;
        float dot = 0.f;
        for (int d = 0; d < D; ++d) dot = fmaf(__shfl_sync(0xffffffffu, qv[d >> 5], d & 31), kr[d], dot);
        float sc = j <= p ? dot * scale : -INFINITY;
        float mNew = fmaxf(m, rc_warp_max(sc));
        float pj = j <= p ? expf(sc - mNew) : 0.f;
        float corr = expf(m - mNew);
        l = l * corr + rc_warp_sum(pj);
        for (int d = 0; d < dpl; ++d) acc[d] *= corr;
        int chunk = min(32, p - j0 + 1);
        for (int jj = 0; jj < chunk; ++jj) {
            float pjj = __shfl_sync(0xffffffffu, pj, jj);
            const float* vr = v + (size_t)(kvStart[s] + j0 + jj) * ldv + (size_t)hk * D;
            for (int d = 0; d < dpl; ++d) acc[d] = fmaf(pjj, vr[lane + 32 * d], acc[d]);
        }
        m = mNew;
    }
    float* o = out + (size_t)row * ldo + (size_t)h * D;
    for (int d = 0; d < dpl; ++d) o[lane + 32 * d] = acc[d] / l;
}
