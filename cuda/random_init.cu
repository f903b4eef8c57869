// random_init.cu — deterministic pseudo-random fills for benchmarks and GPU-side tests (no host transfer of
// gigabytes of random weights). Values are uniform in [−scale·√3, scale·√3) (standard deviation `scale`), from a
// counter-based hash of (seed, index), so any slice can be regenerated independently and results repeat exactly.
//
// Layout:  out [n] contiguous, bf16 or fp32.
// Variants: 1. fill_uniform_{bf16,f32} — one thread per element, grid-stride.
// Launch: grid (min(ceil(n/256), 65535·4)), block 256.
#include "common.cuh"

__device__ __forceinline__ float rc_hash_uniform(unsigned long long seed, unsigned long long i) {
    unsigned long long z = seed * 0x9E3779B97F4A7C15ull + i + 0x632BE59BD9B4E019ull;  // splitmix64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f);  // 24 random bits → [0, 1)
}

extern "C" __global__ void fill_uniform_bf16(__nv_bfloat16* out, long long n, unsigned long long seed, float scale) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = __float2bfloat16_rn((rc_hash_uniform(seed, i) * 2.f - 1.f) * scale * 1.7320508f);
}
extern "C" __global__ void fill_uniform_f32(float* out, long long n, unsigned long long seed, float scale) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        out[i] = (rc_hash_uniform(seed, i) * 2.f - 1.f) * scale * 1.7320508f;
}
