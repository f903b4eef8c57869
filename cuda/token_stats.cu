// token_stats.cu — per-token evaluation statistics from logits, so evaluation downloads 4 floats per token instead of
// a vocab-sized row.
//
// Layout:  logits [R, V] fp32, ref [R, V] fp32 or null (the original model's logits for KL), targets [R] int32
//          (−1 = no target); out [R, 4] fp32 = (−log softmax(logits)[target] or 0, KL(softmax(ref) ‖ softmax(logits))
//          or 0, argmax(logits), argmax(ref) or −1).
// Math: log-sum-exp with the row max subtracted; KL = Σ_v p_ref (log p_ref − log p), all in fp32 (the CPU reference
//       uses double; the difference is far below the noise of any evaluation).
// Variants: 1. token_stats — one 256-thread block per row, block reductions through shared memory.
// Launch: grid (R), block 256.
#include "common.cuh"

__device__ __forceinline__ void ts_argmax_merge(float& bv, int& bi, float v, int i) {
    if (v > bv || (v == bv && i < bi)) { bv = v; bi = i; }
}

// Block-wide (max value, lowest index) for blockDim.x = 256; scratch holds 2 × 8 entries.
__device__ void ts_block_argmax(float& bv, int& bi, float* sv, int* si) {
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, bv, o);
        int oi = __shfl_xor_sync(0xffffffffu, bi, o);
        ts_argmax_merge(bv, bi, ov, oi);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sv[warp] = bv; si[warp] = bi; }
    __syncthreads();
    if (warp == 0) {
        bv = lane < 8 ? sv[lane] : -INFINITY;
        bi = lane < 8 ? si[lane] : 0x7fffffff;
        for (int o = 4; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            ts_argmax_merge(bv, bi, ov, oi);
        }
        if (lane == 0) { sv[0] = bv; si[0] = bi; }
    }
    __syncthreads();
    bv = sv[0];
    bi = si[0];
    __syncthreads();
}

__device__ float ts_lse(const float* row, int V, float mx, float* scratch) {
    float s = 0.f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) s += expf(row[i] - mx);
    return mx + logf(rc_block_sum(s, scratch));
}

extern "C" __global__ void token_stats(const float* logits, const float* ref, const int* targets, int V, float* out) {
    __shared__ float sv[8], scratch[32];
    __shared__ int si[8];
    int r = blockIdx.x;
    const float* row = logits + (size_t)r * V;
    float bv = -INFINITY;
    int bi = 0x7fffffff;
    for (int i = threadIdx.x; i < V; i += blockDim.x) ts_argmax_merge(bv, bi, row[i], i);
    ts_block_argmax(bv, bi, sv, si);
    float lse = ts_lse(row, V, bv, scratch);
    int target = targets[r];
    float nll = target >= 0 ? lse - row[target] : 0.f;
    float kl = 0.f;
    int refArg = -1;
    if (ref) {
        const float* rr = ref + (size_t)r * V;
        float rv = -INFINITY;
        int ri = 0x7fffffff;
        for (int i = threadIdx.x; i < V; i += blockDim.x) ts_argmax_merge(rv, ri, rr[i], i);
        ts_block_argmax(rv, ri, sv, si);
        float rlse = ts_lse(rr, V, rv, scratch);
        float part = 0.f;
        for (int i = threadIdx.x; i < V; i += blockDim.x) {
            float lr = rr[i] - rlse, lq = row[i] - lse;
            part += expf(lr) * (lr - lq);
        }
        kl = rc_block_sum(part, scratch);
        refArg = ri;
    }
    if (threadIdx.x == 0) {
        out[(size_t)r * 4] = nll;
        out[(size_t)r * 4 + 1] = kl;
        out[(size_t)r * 4 + 2] = (float)bi;
        out[(size_t)r * 4 + 3] = (float)refArg;
    }
}
