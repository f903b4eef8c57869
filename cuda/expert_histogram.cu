// expert_histogram.cu — per-expert token counts and the token permutation that groups routed rows by expert.
//
// Layout:  ids [n] int32 = topkIds [tokens, k] flattened (slot s = t·k + j), counts [experts] int32,
//          offsets [experts + 1] int32 (exclusive prefix sums of counts), sortedToken [n] int32 (token of each
//          expert-sorted row), slotPos [n] int32 (sorted row of each slot), y [n, hidden] fp32 expert outputs in
//          sorted order, out [tokens, hidden] fp32.
// Kernels (one job each, launched in this order by the MoE block):
//   1. expert_histogram   counts[e] += #{s : ids[s] == e}; shared-memory bins, one global atomic per bin per block.
//                         grid (min(ceil(n/256), 1024)), block 256, experts ≤ 1024. counts must be zeroed first.
//   2. expert_offsets     offsets = [0, cumsum(counts)]; grid (1), block 32 (serial: experts ≤ 1024 is trivial).
//   3. moe_sort_stable    block per expert; rows of expert e keep token order (stable), so per-expert row order —
//                         and with it every fp32 sum over rows, e.g. Hessians — is deterministic run to run.
//                         grid (experts), block 256.
//   4. moe_combine        out[t] (+)= Σ_j topkWeights[t,j] · y[slotPos[t·k+j]], summed j = 0..k−1 in order.
//                         grid (ceil(tokens·hidden/256) capped), block 256.
#include "common.cuh"

extern "C" __global__ void expert_histogram(const int* ids, int n, int experts, int* counts) {
    __shared__ int bins[1024];
    for (int e = threadIdx.x; e < experts; e += blockDim.x) bins[e] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        int e = ids[i];
        if (e >= 0 && e < experts) atomicAdd(&bins[e], 1);
    }
    __syncthreads();
    for (int e = threadIdx.x; e < experts; e += blockDim.x)
        if (bins[e] != 0) atomicAdd(&counts[e], bins[e]);
}

extern "C" __global__ void expert_offsets(const int* counts, int experts, int* offsets) {
    if (threadIdx.x != 0 || blockIdx.x != 0) return;
    int acc = 0;
    offsets[0] = 0;
    for (int e = 0; e < experts; ++e) { acc += counts[e]; offsets[e + 1] = acc; }
}

extern "C" __global__ void moe_sort_stable(const int* ids, int n, int k, const int* offsets,
                                           int* sortedToken, int* slotPos) {
    __shared__ int warpCount[32];
    __shared__ int base;
    int e = blockIdx.x;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    if (threadIdx.x == 0) base = offsets[e];
    __syncthreads();
    for (int start = 0; start < n; start += blockDim.x) {
        int s = start + threadIdx.x;
        bool hit = s < n && ids[s] == e;
        unsigned ballot = __ballot_sync(0xffffffffu, hit);
        int before = __popc(ballot & ((1u << lane) - 1u));
        if (lane == 0) warpCount[warp] = __popc(ballot);
        __syncthreads();
        int warpBase = 0, chunk = 0;
        for (int w = 0; w < nwarps; ++w) { if (w < warp) warpBase += warpCount[w]; chunk += warpCount[w]; }
        if (hit) {
            int pos = base + warpBase + before;
            sortedToken[pos] = s / k;
            slotPos[s] = pos;
        }
        __syncthreads();
        if (threadIdx.x == 0) base += chunk;
        __syncthreads();
    }
}

extern "C" __global__ void moe_combine(const float* y, const int* slotPos, const float* topkWeights,
                                       int tokens, int k, int hidden, float* out, int accumulate) {
    size_t total = (size_t)tokens * hidden;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        size_t t = idx / hidden;
        int h = (int)(idx % hidden);
        float acc = 0.f;
        for (int j = 0; j < k; ++j) {
            size_t s = t * k + j;
            acc += topkWeights[s] * y[(size_t)slotPos[s] * hidden + h];
        }
        out[idx] = accumulate ? out[idx] + acc : acc;
    }
}
