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

// Tensor-core product of one m16n8k16 tile, bf16 operands, fp32 accumulate in place (c += a · b). Fragment layout:
// PTX ISA "Matrix Fragments for mma.m16n8k16"; gemm_bf16.cu spells it out.
__device__ __forceinline__ void rc_mma_bf16(float* c, unsigned a0, unsigned a1, unsigned a2, unsigned a3,
                                            unsigned b0, unsigned b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ unsigned rc_ld32(const __nv_bfloat16* p) { return *reinterpret_cast<const unsigned*>(p); }

// Two floats as one bf16x2 register, round to nearest even; `lo` in the low half (the lower column of a fragment).
__device__ __forceinline__ unsigned rc_pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<unsigned*>(&v);
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

// rc_segment_tile for a whole block: thread 0 walks the tile counts, every thread gets (segment, first row) through
// shared memory. Returns false for surplus blocks (every thread), which must exit. Synchronizes the block once.
__device__ __forceinline__ bool rc_block_segment(const int* offsets, int nseg, int tile, int blockTile, int* segOut,
                                                 int* rowOut) {
    __shared__ int info[2];
    if (threadIdx.x == 0) {
        int seg = -1, row = 0;
        if (!rc_segment_tile(offsets, nseg, tile, blockTile, &seg, &row)) seg = -1;
        info[0] = seg;
        info[1] = row;
    }
    __syncthreads();
    *segOut = info[0];
    *rowOut = info[1];
    return info[0] >= 0;
}
