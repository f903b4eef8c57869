// router_topk.cu — router scoring and top-k selection for MoE blocks (Mixtral, Qwen2/3-MoE, OLMoE: softmax;
// DeepSeek-V3-style: sigmoid with a selection-only correction bias).
//
// Layout:  logits [tokens, experts] fp32 (router GEMM output), bias [experts] fp32 or null,
//          topkIds [tokens, k] int32, topkWeights [tokens, k] fp32.
// Math, per token:
//   scoring 0 (softmax): s = softmax(logits) in fp32; choice = s.
//   scoring 1 (sigmoid): s = 1 / (1 + exp(−logits));  choice = s + bias (bias only steers the choice).
//   ids = the k largest `choice` values in descending order; weights = s[ids];
//   renormalize != 0: weights /= sum(weights) (sigmoid adds 1e-20 to the sum as DeepSeek-V3 does);
//   weights *= routedScaling.
// Ties: equal choice values are taken lower expert index first (deterministic). torch.topk's tie order is
//   unspecified and in practice is not index order (on CPU, 16 equal values give 10, 11, 12, 9), so on exact ties we
//   agree with HF on the selected set and weights, not on the order; tests/gpu reports the near-tie rate.
// Limits: experts ≤ 256 (8 values per lane), k ≤ 8 and k ≤ experts; group-limited selection (n_group/topk_group)
//   is not implemented here — CudaKernels rejects such rules and the caller stays on the CPU path.
// Variants: 1. router_topk — one warp per token, 8 tokens per 256-thread block, k rounds of warp arg-max.
// Launch: grid (ceil(tokens/8)), block 256.
#include "common.cuh"

#define RC_MAX_PER_LANE 8

// Orders (value, index): larger value first, then lower index. NaN never wins.
__device__ __forceinline__ bool rc_better(float v, int i, float bv, int bi) {
    if (bi < 0) return !isnan(v) && i >= 0;
    if (isnan(v) || i < 0) return false;
    return v > bv || (v == bv && i < bi);
}

extern "C" __global__ void router_topk(const float* logits, const float* bias, int tokens, int experts, int k,
                                       int scoring, int renormalize, float routedScaling,
                                       int* topkIds, float* topkWeights) {
    int t = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (t >= tokens) return;
    const float* row = logits + (size_t)t * experts;
    float score[RC_MAX_PER_LANE], choice[RC_MAX_PER_LANE];
    if (scoring == 0) {
        float m = -INFINITY;
        for (int j = 0; j < RC_MAX_PER_LANE; ++j) {
            int e = lane + 32 * j;
            score[j] = e < experts ? row[e] : -INFINITY;
            m = fmaxf(m, score[j]);
        }
        m = rc_warp_max(m);
        float sum = 0.f;
        for (int j = 0; j < RC_MAX_PER_LANE; ++j) {
            int e = lane + 32 * j;
            score[j] = e < experts ? expf(score[j] - m) : 0.f;
            sum += score[j];
        }
        sum = rc_warp_sum(sum);
        for (int j = 0; j < RC_MAX_PER_LANE; ++j) { score[j] /= sum; choice[j] = score[j]; }
    } else {
        for (int j = 0; j < RC_MAX_PER_LANE; ++j) {
            int e = lane + 32 * j;
            float l = e < experts ? row[e] : 0.f;
            score[j] = 1.f / (1.f + expf(-l));
            choice[j] = score[j] + (bias != nullptr && e < experts ? bias[e] : 0.f);
        }
    }
    unsigned taken = 0;  // bit j: this lane's expert lane + 32j is already chosen
    float selW[RC_MAX_PER_LANE];
    int selId[RC_MAX_PER_LANE];
    float wsum = 0.f;
    for (int r = 0; r < k; ++r) {
        float bv = 0.f;
        int bi = -1;
        for (int j = 0; j < RC_MAX_PER_LANE; ++j) {
            int e = lane + 32 * j;
            if (e < experts && !(taken & (1u << j)) && rc_better(choice[j], e, bv, bi)) { bv = choice[j]; bi = e; }
        }
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (rc_better(ov, oi, bv, bi)) { bv = ov; bi = oi; }
        }
        // All lanes agree on bi now; the owner publishes the unbiased score as the weight.
        float w = 0.f;
        if (bi >= 0 && (bi & 31) == lane) {
            int j = bi >> 5;
            taken |= 1u << j;
            w = score[j];
        }
        w = __shfl_sync(0xffffffffu, w, bi >= 0 ? (bi & 31) : 0);
        selW[r] = w;
        selId[r] = bi;
        wsum += w;
    }
    if (lane == 0) {
        float norm = 1.f;
        if (renormalize) norm = 1.f / (scoring == 1 ? wsum + 1e-20f : wsum);
        for (int r = 0; r < k; ++r) {
            topkIds[(size_t)t * k + r] = selId[r];
            topkWeights[(size_t)t * k + r] = selW[r] * norm * routedScaling;
        }
    }
}
