// elementwise.cu — small element-wise and row-wise ops the device-resident forward pass needs between the big
// kernels (each a one-liner over a grid-stride loop; grouped here because they share their launch shape).
//
// Layout: dense row-major fp32 unless said otherwise; n counts elements, rows × cols the 2-D ops.
//   gather_rows_{f32,bf16}: out [n, cols] fp32 = table[ids[r]] (table fp32 or bf16 [vocab, cols]); ids are checked
//                           on the host before upload.
//   add_bias_f32:           y [rows, cols] += bias [cols].
//   scale_rows_sigmoid_f32: x [rows, cols] *= sigmoid(gate[r]) (a shared expert's gate).
//   clamp_f32:              x = min(max(x, −limit), limit) (OLMoE clip_qkv).
//   count_nonfinite_f32:    *count += number of NaN/±Inf in x (count is zeroed by the caller).
//   round_bf16_f32:         x = float(bf16(x)) in place.
//   axpy_f32:               y += alpha · x.
//   gather_cols_f32:        dst = src with columns permuted per matrix (GPTQ act-order), −1 → 0.
//   diag_f32:               the diagonals of stacked square matrices.
//   sum_squares_groups:     per row group, Σ y² over a column range (double).
//   scale_rows_f32:         x[rowIndex[i]] *= scale[i] (rowIndex null: row i), i < n; Llama 4's routed-input scaling
//                           and per-position query temperature.
//   copy_columns_f32:       dst[r, dstCol + b·dstStride + i] = src[r, srcCol + b·srcStride + i] for i < width, b <
//                           blocks (srcStride 0 broadcasts one block): MLA's per-head splits and joins.
//   add_grouped_bias_f32:   y[r] += bias[e] for the sorted rows r of expert e (offsets [experts + 1]); rows past
//                           offsets[experts] are left alone. The expert is found by binary search over offsets.
// Variants: 1. one thread per element, grid-stride.
// Launch: grid min(ceil(work/256), 65535·4), block 256.
#include "common.cuh"

template <typename T>
__device__ void gather_rows_impl(const T* __restrict__ table, const int* __restrict__ ids, int n, int cols,
                                 float* __restrict__ out) {
    size_t total = (size_t)n * cols;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / cols;
        int c = (int)(i % cols);
        out[i] = rc_load(table + (size_t)ids[r] * cols + c);
    }
}
extern "C" __global__ void gather_rows_f32(const float* table, const int* ids, int n, int cols, float* out) {
    gather_rows_impl<float>(table, ids, n, cols, out);
}
extern "C" __global__ void gather_rows_bf16(const __nv_bfloat16* table, const int* ids, int n, int cols, float* out) {
    gather_rows_impl<__nv_bfloat16>(table, ids, n, cols, out);
}

extern "C" __global__ void add_bias_f32(float* y, const float* bias, long long rows, int cols) {
    long long total = rows * cols;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
        y[i] += bias[i % cols];
}

extern "C" __global__ void scale_rows_sigmoid_f32(float* x, const float* gate, long long rows, int cols) {
    long long total = rows * cols;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        float g = gate[i / cols];
        x[i] *= 1.f / (1.f + expf(-g));
    }
}

extern "C" __global__ void clamp_f32(float* x, long long n, float limit) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        x[i] = fminf(fmaxf(x[i], -limit), limit);
}

extern "C" __global__ void count_nonfinite_f32(const float* x, long long n, unsigned long long* count) {
    unsigned long long local = 0;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        if (!isfinite(x[i])) local++;
    // warp-aggregate before the atomic: most blocks find nothing and never touch global memory
    for (int o = 16; o > 0; o >>= 1) local += __shfl_xor_sync(0xffffffffu, local, o);
    if ((threadIdx.x & 31) == 0 && local) atomicAdd(count, local);
}

// round_bf16_f32: x = float(bf16(x)) in place (a bf16 pass's activation operand, for shapes the bf16 GEMMs cannot take).
extern "C" __global__ void round_bf16_f32(float* x, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        x[i] = __bfloat162float(__float2bfloat16_rn(x[i]));
}

// sum_squares_groups: out[g] += Σ y[r, c]² over rows offsets[g]..offsets[g+1] and columns [colFrom, colTo) (double
// accumulation; out zeroed by the caller). Grid (groups, 8 row-chunks), block 256: each block strides over its chunk.
extern "C" __global__ void sum_squares_groups(const float* y, int ld, const int* offsets, int colFrom, int colTo, double* out) {
    __shared__ double scratch[8];
    int g = blockIdx.x;
    int r0 = offsets[g], r1 = offsets[g + 1], width = colTo - colFrom;
    long long total = (long long)(r1 - r0) * width;
    double acc = 0.0;
    for (long long i = (long long)blockIdx.y * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.y * blockDim.x) {
        long long r = r0 + i / width;
        float v = y[r * ld + colFrom + (int)(i % width)];
        acc += (double)v * v;
    }
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
        double s = 0.0;
        for (int w = 0; w < (int)(blockDim.x >> 5); ++w) s += scratch[w];
        if (s != 0.0) atomicAdd(out + g, s);
    }
}

// axpy_f32: y += alpha · x for n floats (differences of two models' outputs, scaled residual updates).
extern "C" __global__ void axpy_f32(float* y, const float* x, float alpha, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        y[i] = fmaf(alpha, x[i], y[i]);
}

// gather_cols_f32: dst[r, j] = src[r, idx[m, j]] (0 when idx < 0), m = r / rowsPerIdx (rowsPerIdx 0: one map):
// GPTQ's act-order permutation of weights and Hessians, and the zeroing of dead columns, one map per matrix.
extern "C" __global__ void gather_cols_f32(const float* src, long long rows, int K, const int* idx, int rowsPerIdx, float* dst) {
    long long total = rows * K;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        long long r = i / K;
        int j = (int)(i % K);
        int c = idx[(rowsPerIdx > 0 ? r / rowsPerIdx : 0) * K + j];
        dst[i] = c >= 0 ? src[r * K + c] : 0.f;
    }
}

// diag_f32: out[b·K + i] = h[(b·K + i)·K + i] for batches of K×K matrices stacked [batches·K, K].
extern "C" __global__ void diag_f32(const float* h, int K, int batches, float* out) {
    long long total = (long long)K * batches;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
        out[i] = h[i * K + i % K];
}

extern "C" __global__ void scale_rows_f32(float* x, int cols, const float* scale, const int* rowIndex, int n) {
    long long total = (long long)n * cols;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        int j = (int)(i / cols);
        long long r = rowIndex ? rowIndex[j] : j;
        x[r * cols + i % cols] *= scale[j];
    }
}

extern "C" __global__ void copy_columns_f32(const float* src, int ldSrc, int srcCol, int srcStride, float* dst, int ldDst, int dstCol,
                                            int dstStride, int width, int blocks, long long rows) {
    long long perRow = (long long)blocks * width, total = rows * perRow;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        long long r = i / perRow;
        int rem = (int)(i % perRow), b = rem / width, c = rem % width;
        dst[r * ldDst + dstCol + (long long)b * dstStride + c] = src[r * ldSrc + srcCol + (long long)b * srcStride + c];
    }
}

extern "C" __global__ void add_grouped_bias_f32(float* y, int cols, const float* bias, const int* offsets, int experts, long long rows) {
    long long total = rows * cols;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        int r = (int)(i / cols);
        if (r >= offsets[experts]) continue;
        int lo = 0, hi = experts - 1;  // the last e with offsets[e] <= r (empty experts share an offset: take the last)
        while (lo < hi) {
            int mid = (lo + hi + 1) >> 1;
            if (offsets[mid] <= r) lo = mid; else hi = mid - 1;
        }
        y[i] += bias[(size_t)lo * cols + i % cols];
    }
}
