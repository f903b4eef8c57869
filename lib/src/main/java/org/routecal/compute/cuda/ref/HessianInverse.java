package org.routecal.compute.cuda.ref;

import org.routecal.RoutecalException;

/**
 * GPTQ's host-side step between Hessian accumulation and the column sweep, in double precision: fix dead columns,
 * damp by a fraction of mean(diag H), and return U, the upper Cholesky factor of H⁻¹ (as llm-compressor builds it).
 * O(K³); K ≤ a few thousand is seconds on a CPU core, and one factor serves every matrix that shares the Hessian.
 */
public final class HessianInverse {
    private HessianInverse() {}

    /** U [k, k] row-major, upper triangular, with Uᵀ U = (H + damp·mean(diag H)·I)⁻¹ after dead-column fixing. */
    public static float[] upperCholeskyOfInverse(float[] h, int k, double dampFraction) {
        double[] a = new double[k * k];
        for (int i = 0; i < k * k; i++) a[i] = h[i];
        double mean = 0;
        for (int i = 0; i < k; i++) {
            if (a[i * k + i] == 0) a[i * k + i] = 1;  // dead input column: llm-compressor sets H[dead, dead] = 1
            mean += a[i * k + i];
        }
        mean /= k;
        for (int i = 0; i < k; i++) a[i * k + i] += dampFraction * mean;
        choleskyLowerInPlace(a, k, "damped Hessian");
        // H⁻¹ = L⁻ᵀ L⁻¹: invert L (lower) in place, then form the product.
        double[] linv = new double[k * k];
        for (int i = 0; i < k; i++) {
            linv[i * k + i] = 1 / a[i * k + i];
            for (int j = 0; j < i; j++) {
                double s = 0;
                for (int m = j; m < i; m++) s += a[i * k + m] * linv[m * k + j];
                linv[i * k + j] = -s / a[i * k + i];
            }
        }
        double[] inv = new double[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int m = i; m < k; m++) s += linv[m * k + i] * linv[m * k + j];
                inv[i * k + j] = s;
                inv[j * k + i] = s;
            }
        }
        choleskyLowerInPlace(inv, k, "inverse Hessian");
        float[] u = new float[k * k];  // U = Lᵀ of the inverse's lower factor
        for (int i = 0; i < k; i++) for (int j = 0; j <= i; j++) u[j * k + i] = (float) inv[i * k + j];
        return u;
    }

    private static void choleskyLowerInPlace(double[] a, int k, String what) {
        for (int j = 0; j < k; j++) {
            double d = a[j * k + j];
            for (int m = 0; m < j; m++) d -= a[j * k + m] * a[j * k + m];
            if (!(d > 0)) throw new RoutecalException("Cholesky of the " + what + " failed at column " + j + " (not positive definite; raise dampening)");
            double l = Math.sqrt(d);
            a[j * k + j] = l;
            for (int i = j + 1; i < k; i++) {
                double s = a[i * k + j];
                for (int m = 0; m < j; m++) s -= a[i * k + m] * a[j * k + m];
                a[i * k + j] = s / l;
            }
            for (int i = 0; i < j; i++) a[i * k + j] = 0;  // keep the strict upper part zero
        }
    }
}
