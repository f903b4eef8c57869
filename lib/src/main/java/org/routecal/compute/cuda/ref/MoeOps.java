package org.routecal.compute.cuda.ref;

/**
 * The backend-neutral operations of an MoE forward pass and of weight quantization, on host arrays. Two
 * implementations: {@link org.routecal.compute.cuda.ref.ReferenceMoeOps} (plain loops, the CPU reference every fast
 * path is checked against) and {@link CudaMoeOps} (our PTX kernels; uploads, launches, downloads). The model code can
 * call these through a {@code MoeOps} chosen once by {@link DeviceChoice} and passed down.
 *
 * <p>All arrays are row-major with the shapes given per method. Linear weights use the HF layout [out, in]; on CUDA
 * GEMM operands are rounded to bf16 (fp32 accumulate), so results agree with the reference within bf16 tolerance.
 */
public interface MoeOps extends AutoCloseable {
    /** "reference" or "cuda"; logged with the backend choice. */
    String name();

    /** y [rows, dim] = x / sqrt(mean(x²) + eps) · weight, per row. */
    float[] rmsnorm(float[] x, int rows, int dim, float[] weight, float eps);

    /** NeoX rotate-half RoPE, in place on x [tokens, heads, headDim]; invFreq [rot/2], positions [tokens]. */
    void ropeNeox(float[] x, int tokens, int heads, int headDim, int rot, int[] positions, float[] invFreq, float attnScale);

    /** silu(gate) · up, both [rows, inter]. */
    float[] siluMul(float[] gate, float[] up, int rows, int inter);

    /** y [m, n] = x [m, k] · weightᵀ, weight [n, k]. */
    float[] linear(float[] x, int m, int k, float[] weight, int n);

    /** Routing decision per token: ids [tokens, k] in descending score order, weights [tokens, k]. */
    record TopK(int tokens, int k, int[] ids, float[] weights) {}

    /** Router scoring and top-k over logits [tokens, experts]; bias [experts] or null (sigmoid selection only). */
    TopK routerTopk(float[] logits, int tokens, int experts, int k, RouterScoring scoring, float[] bias, boolean renormalize,
                    float routedScaling);

    /** counts [experts] of ids (values outside [0, experts) are ignored). */
    int[] expertHistogram(int[] ids, int experts);

    /**
     * Routed expert MLP block: out [tokens, hidden] = Σ_j w[t,j] · down_e(silu(gate_e x) · up_e x) for e = ids[t,j].
     * gateUp [experts, 2·inter, hidden] (gate rows first, as HF Qwen3-MoE v5 gate_up_proj), down [experts, hidden, inter].
     */
    float[] moeExperts(float[] x, int tokens, int hidden, TopK routing, float[] gateUp, float[] down, int experts, int inter);

    /** Causal GQA attention over packed sequences: q [T, hq·d], k/v [T, hkv·d], seqStart [numSeqs+1] → [T, hq·d]. */
    float[] attentionPrefill(float[] q, float[] k, float[] v, int[] seqStart, int hq, int hkv, int headDim, float scale);

    /**
     * H [batches, kDim, kDim] = alpha · Σ_r w_r x_r x_rᵀ where batch b covers sorted rows offsets[b]..offsets[b+1],
     * row r reads x[rowIndex[r]] (rowIndex null: x[r]); rowWeight null means 1. x is [*, kDim].
     */
    float[] hessian(float[] x, int kDim, int[] offsets, int[] rowIndex, float[] rowWeight, float alpha);

    /** Integer group quantization result: scale/zp [rows, groups], q [rows, k] int8, deq [rows, k]. */
    record IntQuant(float[] scale, float[] zp, byte[] q, float[] deq) {}

    /** RTN int quantization with compressed-tensors semantics (zp null when symmetric). */
    IntQuant rtnInt(float[] w, int rows, int kDim, int groupSize, int bits, boolean symmetric, boolean roundScaleBf16);

    /** FP8 E4M3 result: scale [rows, groups], codes [rows, k], deq [rows, k]. */
    record Fp8Quant(float[] scale, byte[] codes, float[] deq) {}

    Fp8Quant fp8(float[] w, int rows, int kDim, int groupSize, boolean roundScaleBf16);

    /** NVFP4 result: globalScale (divisor), packed [rows, k/2], FP8 group-scale codes [rows, k/16], deq [rows, k]. */
    record Nvfp4Quant(float globalScale, byte[] packed, byte[] scaleCodes, float[] deq) {}

    Nvfp4Quant nvfp4(float[] w, int rows, int kDim);

    /**
     * Upper Cholesky factors U of the damped inverse of each Hessian h [batches, k, k] (dead diagonal → 1, damping
     * dampFraction · mean(diag)); a matrix that is not positive definite comes back as null in the array.
     */
    float[][] hinvUpper(float[] h, int batches, int kDim, float dampFraction);

    /** GPTQ sweep result: on-grid weights [rows, k] and per-row loss. */
    record GptqResult(float[] deq, float[] loss) {}

    /**
     * GPTQ column sweep on w [rows, kDim] given upper Cholesky factors of H⁻¹ ([nH, k, k]; rowsPerH = 0: one shared),
     * fixed scales/zero points [rows, groups] and optional act-order group index gIdx [k] ([rows / rowsPerH, k]: one map
     * per matrix, when rowsPerH > 0).
     */
    GptqResult gptqSweep(float[] w, int rows, int kDim, float[] hinvUpper, int rowsPerH, float[] scale, float[] zp, int[] gIdx,
                         int groupSize, int qmin, int qmax);

    @Override
    default void close() {}
}
