// quantize.cu — round-to-nearest weight quantizers with compressed-tensors semantics (RTN int4/int8, FP8 E4M3,
// NVFP4), and the scale computation they share with GPTQ (whose scales come from the original weights).
//
// Layout:  W [rows, K] fp32 row-major (rows = output channels, K = input features; several experts may be stacked),
//          groups of gs consecutive columns (gs = K for per-channel), G = ceil(K/gs);
//          scale [rows, G] fp32, zp [rows, G] fp32 (integer-valued) or null for symmetric;
//          q [rows, K] int8 (int schemes) or uint8 FP8 codes; deq [rows, K] fp32 dequantized values (either may be null).
// Math (research/llmcompressor.md §3):
//   int symmetric:  scale = absmax / ((qmax − qmin) / 2)                 (int4: absmax / 7.5), zp = 0
//   int asymmetric: lo = min(min, 0), hi = max(max, 0), scale = (hi − lo) / (qmax − qmin),
//                   zp = clamp(rint(qmin − lo / scale), qmin, qmax)
//   fp8:            scale = absmax / 448
//   a zero scale becomes `eps`; roundScaleBf16 != 0 rounds the scale to bf16 first (scales are stored in the model
//   dtype, and the stored value is what quantization then uses).
//   int quantize:   q = rint(clamp(w / scale + zp, qmin, qmax)) (rint = round half to even, like torch.round),
//                   deq = (q − zp) · scale.   fp8 quantize: q = e4m3_rn(clamp(w / scale, ±448)), deq = q · scale.
//   NVFP4 (group 16): globalScale = 448·6 / amax(W) (a divisor, computed on the host from absmax_f32);
//                   sg = e4m3(globalScale · amax_group / 6) stored as the group scale; s = sg / globalScale;
//                   code = fp4(w / s) with compressed-tensors' thresholds (ties to the even code:
//                   0.25→0, 0.75→1, 1.25→1, 1.75→2, 2.5→2, 3.5→4, 5→4), packed two per byte, even element in the low
//                   nibble, bit 3 = sign; deq = value · s.
// Kernels / launch:
//   absmax_f32          out = max |x| (atomicMax on the float bits; *out must start at 0). grid ≤ 1024, block 256.
//   group_scales        mode 0 int symmetric, 1 int asymmetric, 2 fp8. One warp per (row, group): grid
//                       (ceil(rows·G/8)), block 256.
//   quant_int_groups    one thread per element, grid-stride. quant_fp8_groups: same.
//   nvfp4_quantize      one thread per 16-element group: grid (ceil(rows·K/16/256)), block 256; K % 16 == 0.
// Variants: 1 of each (these are memory-bound one-pass kernels).
#include "common.cuh"
#include <cuda_fp8.h>

extern "C" __global__ void absmax_f32(const float* x, long long n, float* out) {
    float m = 0.f;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        m = fmaxf(m, fabsf(x[i]));
    m = rc_warp_max(m);
    if ((threadIdx.x & 31) == 0) atomicMax(reinterpret_cast<int*>(out), __float_as_int(m));  // m ≥ 0: int order = float order
}

__device__ __forceinline__ float rc_finish_scale(float s, float eps, int roundBf16) {
    if (roundBf16) s = __bfloat162float(__float2bfloat16_rn(s));
    return s == 0.f ? eps : s;
}

extern "C" __global__ void group_scales(const float* W, int rows, int K, int gs, int mode, int qmin, int qmax,
                                        float eps, int roundScaleBf16, float* scale, float* zp) {
    int G = (K + gs - 1) / gs;
    long long item = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (item >= (long long)rows * G) return;
    long long row = item / G;
    int g = (int)(item % G);
    const float* w = W + row * K;
    int c1 = min(K, (g + 1) * gs);
    float lo = INFINITY, hi = -INFINITY;
    for (int c = g * gs + lane; c < c1; c += 32) { lo = fminf(lo, w[c]); hi = fmaxf(hi, w[c]); }
    lo = -rc_warp_max(-lo);
    hi = rc_warp_max(hi);
    if (lane != 0) return;
    float s, z = 0.f;
    if (mode == 1) {
        lo = fminf(lo, 0.f);
        hi = fmaxf(hi, 0.f);
        s = rc_finish_scale((hi - lo) / (float)(qmax - qmin), eps, roundScaleBf16);
        z = fminf(fmaxf(rintf((float)qmin - lo / s), (float)qmin), (float)qmax);
    } else {
        float amax = fmaxf(fabsf(lo), fabsf(hi));
        float div = mode == 2 ? 448.f : (float)(qmax - qmin) / 2.f;
        s = rc_finish_scale(amax / div, eps, roundScaleBf16);
    }
    scale[item] = s;
    if (zp != nullptr) zp[item] = z;
}

extern "C" __global__ void quant_int_groups(const float* W, int rows, int K, int gs, const float* scale,
                                            const float* zp, int qmin, int qmax, signed char* q, float* deq) {
    int G = (K + gs - 1) / gs;
    long long total = (long long)rows * K;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        long long row = i / K;
        int c = (int)(i % K);
        long long gi = row * G + c / gs;
        float s = scale[gi], z = zp != nullptr ? zp[gi] : 0.f;
        float v = rintf(fminf(fmaxf(W[i] / s + z, (float)qmin), (float)qmax));
        if (q != nullptr) q[i] = (signed char)(int)v;
        if (deq != nullptr) deq[i] = (v - z) * s;
    }
}

extern "C" __global__ void quant_fp8_groups(const float* W, int rows, int K, int gs, const float* scale,
                                            unsigned char* q, float* deq) {
    int G = (K + gs - 1) / gs;
    long long total = (long long)rows * K;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        long long row = i / K;
        int c = (int)(i % K);
        float s = scale[row * G + c / gs];
        __nv_fp8_e4m3 f(fminf(fmaxf(W[i] / s, -448.f), 448.f));
        if (q != nullptr) q[i] = f.__x;
        if (deq != nullptr) deq[i] = (float)f * s;
    }
}

// E2M1 magnitude code of |x| (x already divided by the group scale), compressed-tensors thresholds.
__device__ __forceinline__ int rc_fp4_code(float a) {
    if (a <= 0.25f) return 0;
    if (a < 0.75f) return 1;
    if (a <= 1.25f) return 2;
    if (a < 1.75f) return 3;
    if (a <= 2.5f) return 4;
    if (a < 3.5f) return 5;
    if (a <= 5.f) return 6;
    return 7;
}
__constant__ float rc_fp4_values[8] = {0.f, 0.5f, 1.f, 1.5f, 2.f, 3.f, 4.f, 6.f};

extern "C" __global__ void nvfp4_quantize(const float* W, int rows, int K, float globalScale, float eps,
                                          unsigned char* packed, unsigned char* scaleFp8, float* deq) {
    long long groups = (long long)rows * (K / 16);
    long long gi = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (gi >= groups) return;
    const float* w = W + gi * 16;  // groups never straddle rows because K % 16 == 0
    float amax = 0.f;
    for (int c = 0; c < 16; ++c) amax = fmaxf(amax, fabsf(w[c]));
    __nv_fp8_e4m3 sg(fminf(globalScale * amax / 6.f, 448.f));
    float sgf = (float)sg;
    if (sgf == 0.f) { sg = __nv_fp8_e4m3(eps); sgf = (float)sg; }
    scaleFp8[gi] = sg.__x;
    float s = sgf / globalScale;
    for (int c = 0; c < 16; c += 2) {
        int codes[2];
        for (int e = 0; e < 2; ++e) {
            float x = w[c + e] / s;
            int mag = rc_fp4_code(fabsf(x));
            codes[e] = mag | (x < 0.f && mag != 0 ? 8 : 0);
            if (deq != nullptr) deq[gi * 16 + c + e] = (x < 0.f ? -1.f : 1.f) * rc_fp4_values[mag] * s;
        }
        if (packed != nullptr) packed[gi * 8 + c / 2] = (unsigned char)(codes[0] | (codes[1] << 4));
    }
}
