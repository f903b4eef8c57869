package org.routecal.quant.gptq;

/**
 * The scalar implementation CholeskyInverse had before the blocked kernels (unblocked, row-by-row loops), kept as the
 * test reference: the blocked one must give the same U up to rounding and the same GPTQ codes.
 *
 * The upper Cholesky factor U of A⁻¹ (UᵀU = A⁻¹) for a symmetric positive-definite A, which GPTQ needs, without
 * forming A⁻¹: factor the reversed matrix J·A·J = L·Lᵀ (L lower), so A = V·Vᵀ with V = J·L·J upper, and
 * A⁻¹ = (V⁻¹)ᵀ·V⁻¹ with V⁻¹ upper and a positive diagonal, i.e. U = V⁻¹ = J·L⁻¹·J. Two n³/3 passes instead of
 * torch's cholesky → cholesky_inverse → cholesky (three). Double precision throughout.
 */
final class ScalarCholeskyInverse {
    private ScalarCholeskyInverse() {}

    /**
     * Writes U ([n, n] row-major, float) into {@code out}. Returns null on success, or the reason the matrix is not
     * positive definite (the caller falls back to RTN). {@code a} ([n, n] row-major) is not modified.
     */
    static String upperFactorOfInverse(double[] a, int n, float[] out) {
        // l: [n, n] lower Cholesky factor of J·A·J, row-major
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            int ri = n - 1 - i;
            for (int j = 0; j <= i; j++) {
                int rj = n - 1 - j;
                double s = a[ri * n + rj];
                for (int k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
                if (i == j) {
                    if (!(s > 0)) return "Hessian not positive definite at column " + ri + " (pivot " + s + ")";
                    l[i * n + i] = Math.sqrt(s);
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        // m = L⁻¹ (lower), row by row: m[i,:] = (e_i − Σ_{k<i} L[i,k]·m[k,:]) / L[i,i]
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++) {
            int mi = i * n;
            for (int k = 0; k < i; k++) {
                double c = l[mi + k];
                if (c == 0) continue;
                int mk = k * n;
                for (int j = 0; j <= k; j++) m[mi + j] -= c * m[mk + j];
            }
            m[mi + i] += 1;
            double inv = 1 / l[mi + i];
            for (int j = 0; j <= i; j++) m[mi + j] *= inv;
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) out[i * n + j] = (float) m[(n - 1 - i) * n + (n - 1 - j)];
        }
        return null;
    }
}
