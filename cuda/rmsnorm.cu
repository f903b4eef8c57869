// rmsnorm.cu — RMSNorm as HF LlamaRMSNorm/Qwen3MoeRMSNorm computes it: y = w · x / sqrt(mean(x²) + eps), in fp32.
//
// Layout:  x [rows, dim] row-major fp32 (row stride ldx ≥ dim, so a head slice of a fused qkv buffer works),
//          w [dim] fp32 (Gemma's (1 + w) is folded into w at load time), y [rows, dim] (row stride ldy), fp32 or bf16.
// Variants (selected in CudaKernels.rmsnorm by dim):
//   1. rmsnorm_{f32,bf16}       one block of 256 threads per row; for hidden sizes (≥ 512).
//   2. rmsnorm_warp_{f32,bf16}  one warp per row, 8 rows per 256-thread block; for per-head q/k norms (dim 64–256).
// Launch: variant 1 grid (rows), block 256; variant 2 grid (ceil(rows/8)), block 256. No dynamic shared memory.
// In place (y == x) is allowed: every thread reads its elements before the reduction and writes them after it.
#include "common.cuh"

template <typename OUT>
__device__ void rmsnorm_block_row(const float* __restrict__ x, int ldx, const float* __restrict__ w,
                                  OUT* y, int ldy, int rows, int dim, float eps) {
    __shared__ float scratch[32];
    int row = blockIdx.x;
    if (row >= rows) return;
    const float* xr = x + (size_t)row * ldx;
    float ss = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) { float v = xr[i]; ss += v * v; }
    ss = rc_block_sum(ss, scratch);
    float inv = rsqrtf(ss / dim + eps);
    OUT* yr = y + (size_t)row * ldy;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) rc_store(yr + i, w[i] * (xr[i] * inv));
}

template <typename OUT>
__device__ void rmsnorm_warp_row(const float* __restrict__ x, int ldx, const float* __restrict__ w,
                                 OUT* y, int ldy, int rows, int dim, float eps) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float* xr = x + (size_t)row * ldx;
    float ss = 0.f;
    for (int i = lane; i < dim; i += 32) { float v = xr[i]; ss += v * v; }
    ss = rc_warp_sum(ss);
    float inv = rsqrtf(ss / dim + eps);
    OUT* yr = y + (size_t)row * ldy;
    for (int i = lane; i < dim; i += 32) rc_store(yr + i, w[i] * (xr[i] * inv));
}

extern "C" __global__ void rmsnorm_f32(const float* x, int ldx, const float* w, float* y, int ldy,
                                       int rows, int dim, float eps) {
    rmsnorm_block_row<float>(x, ldx, w, y, ldy, rows, dim, eps);
}
extern "C" __global__ void rmsnorm_bf16(const float* x, int ldx, const float* w, __nv_bfloat16* y, int ldy,
                                        int rows, int dim, float eps) {
    rmsnorm_block_row<__nv_bfloat16>(x, ldx, w, y, ldy, rows, dim, eps);
}
extern "C" __global__ void rmsnorm_warp_f32(const float* x, int ldx, const float* w, float* y, int ldy,
                                            int rows, int dim, float eps) {
    rmsnorm_warp_row<float>(x, ldx, w, y, ldy, rows, dim, eps);
}
extern "C" __global__ void rmsnorm_warp_bf16(const float* x, int ldx, const float* w, __nv_bfloat16* y, int ldy,
                                             int rows, int dim, float eps) {
    rmsnorm_warp_row<__nv_bfloat16>(x, ldx, w, y, ldy, rows, dim, eps);
}
