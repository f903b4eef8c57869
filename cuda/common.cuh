// common.cuh — helpers shared by every routecal kernel (included, never compiled alone).
//
// Conventions for all kernels in cuda/*.cu:
// - Tensors are dense row-major; shape comments read [rows, cols]. Strides, where a kernel takes them, count elements.
// - Activations and accumulators are fp32; GEMM operands are bf16 (tensor-core input), products accumulate in fp32.
// - Every entry point is extern "C" so its PTX name is the plain C name that CudaKernels looks up.
// - Index arithmetic that can pass 2^31 (rows × cols of a large matrix) is done in 64-bit (size_t).
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

#define RC_WARP 32

// Full-warp butterfly reductions: every lane ends with the result.
__device__ __forceinline__ float rc_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float rc_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum for blockDim.x a multiple of 32 and at most 1024; every thread gets the result.
// `scratch` must hold 32 floats; the function synchronizes before returning so scratch can be reused.
__device__ __forceinline__ float rc_block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = rc_warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float t = lane < nwarps ? scratch[lane] : 0.f;
    t = rc_warp_sum(t);
    __syncthreads();
    return t;
}

// Output conversion used by kernels that come in f32-out and bf16-out flavours.
__device__ __forceinline__ void rc_store(float* p, float v) { *p = v; }
__device__ __forceinline__ void rc_store(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }
__device__ __forceinline__ float rc_load(const float* p) { return *p; }
__device__ __forceinline__ float rc_load(const __nv_bfloat16* p) { return __bfloat162float(*p); }

// A grid dimension that covers variable-size segments in tiles of `tile` rows, without a host round trip:
// segments are given by offsets[0..nseg] (exclusive prefix sums); the grid launches
// ceil(offsets[nseg]/tile) + nseg tiles (an upper bound, known on the host from the row total) and each block finds
// its (segment, first row) by walking the tile counts. Returns false for surplus blocks, which must exit.
// Linear scan: nseg is at most a few hundred (experts) or the batch size (sequences).
__device__ __forceinline__ bool rc_segment_tile(const int* offsets, int nseg, int tile, int blockTile,
                                                int* segOut, int* rowOut) {
    int seen = 0;
    for (int s = 0; s < nseg; ++s) {
        int rows = offsets[s + 1] - offsets[s];
        int tiles = (rows + tile - 1) / tile;
        if (blockTile < seen + tiles) {
            *segOut = s;
            *rowOut = offsets[s] + (blockTile - seen) * tile;
            return true;
        }
        seen += tiles;
    }
    return false;
}
