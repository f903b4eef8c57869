package org.routecal.quant.gptq;

import org.routecal.compute.cpu.CholeskyKernels;
import org.routecal.compute.cpu.CpuThreads;

/**
 * The upper Cholesky factor U of A⁻¹ (UᵀU = A⁻¹) for a symmetric positive-definite A, which GPTQ needs, without
 * forming A⁻¹: factor the reversed matrix J·A·J = VᵀV (V upper); then A⁻¹ = W·Wᵀ with
 * W = J·V⁻¹·J lower, and U = Wᵀ: U[i, j] = V⁻¹[n−1−j, n−1−i]. Two n³/3 passes instead of torch's
 * cholesky → cholesky_inverse → cholesky (three), both blocked and vectorised ({@link CholeskyKernels}; faster than
 * EJML 0.46.1's block Cholesky + triangular inverse on the same machine, see bench/CPU-RESULTS.md). Double precision.
 */
final class CholeskyInverse {
    private CholeskyInverse() {}

    /**
     * Writes U ([n, n] row-major, float) into {@code out}. Returns null on success, or the reason the matrix is not
     * positive definite (the caller falls back to RTN). {@code a} ([n, n] row-major, symmetric) is not modified; its lower
     * triangle is read.
     */
    static String upperFactorOfInverse(double[] a, int n, float[] out) {
        int size = CholeskyKernels.paddedSize(n);
        // r = [[J·A·J, 0], [0, I]], padded so every block is full; upper triangle only
        double[] r = new double[size * size];
        for (int i = 0; i < n; i++) {
            int ai = (n - 1 - i) * n + (n - 1);
            for (int j = i; j < n; j++) r[i * size + j] = a[ai - j];
        }
        for (int i = n; i < size; i++) r[i * size + i] = 1;
        int bad = CholeskyKernels.choleskyUpper(r, size, CpuThreads.sharedPool());
        if (bad >= 0) {
            return "Hessian not positive definite at column " + (n - 1 - bad) + " (pivot " + r[bad * size + bad] + ")";
        }
        double[] v = CholeskyKernels.invertUpper(r, size, CpuThreads.sharedPool());
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) out[i * n + j] = (float) v[(n - 1 - j) * size + (n - 1 - i)];
        }
        return null;
    }
}
