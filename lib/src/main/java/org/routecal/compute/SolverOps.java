package org.routecal.compute;

/**
 * The GPTQ solve on a device, for backends that can keep Hessians where they were accumulated (the CUDA backend): the
 * factor of the damped inverse, the column sweep and the act-order permutation, batched over matrices. The CPU
 * reference solves on the host with {@code quant.gptq.GptqSolver}; the device path is checked against it.
 */
public interface SolverOps {
    /**
     * Upper Cholesky factors of the damped inverse Hessians: h and u [batches·K, K] F32 (dead columns, diagonal 0,
     * become 1 before damping by {@code dampFraction}·mean(diag)). Returns per batch 0 = ok, j+1 = not positive
     * definite at column j (the caller falls back to rounding for that matrix).
     */
    int[] choleskyInverseUpper(Tensor h, float dampFraction, Tensor u);

    /**
     * The GPTQ column sweep in place on w [rows, K] (on return: the dequantized weights), rows split between factors
     * u [nH·K, K] by {@code rowsPerH} (0: one shared factor); scales/zeros [rows, G] F32 (zeros may be null), column
     * groups groupOfStep [nH, K] I32 or null (column / groupSize), dequantized values rounded per {@code qRound}
     * (0 none, 1 bf16, 2 fp16); loss [1, rows] F32 or null. The arithmetic is the host solver's: immediate updates
     * inside blocks of {@code blockSize} columns, one summed update past them, no fused multiply-adds.
     */
    void gptqSweep(Tensor w, Tensor u, int rowsPerH, Tensor scales, Tensor zeros, Tensor groupOfStep, int groupSize, int qmin, int qmax,
                   int qRound, int blockSize, Tensor loss);

    /** The diagonals of h [batches·K, K] (act-order ranks columns by them; zeros mark dead columns). */
    float[] diagonals(Tensor h);

    /** dst = src with columns gathered per matrix: dst[r, j] = src[r, idx[r / rowsPerIdx, j]], idx −1 → 0. */
    void gatherColumns(Tensor src, Tensor idx, int rowsPerIdx, Tensor dst);
}
