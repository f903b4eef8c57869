package org.routecal.quant.gptq;

/**
 * The part of GPTQ that depends only on the Hessian: column order, dead columns and the upper Cholesky factor of the
 * damped inverse. Computed once and shared by every weight calibrated on the same inputs (gate_proj and up_proj of an
 * expert; every expert's gate/up in {@code all} mode) — the point of the shared-Hessian batch.
 *
 * @param cols           input features
 * @param perm           [cols] processing order: perm[j] is the original column processed j-th (identity without act-order)
 * @param dead           [cols] in processing order: Hessian diagonal was 0
 * @param hinvUpper      [cols, cols] row-major, upper Cholesky factor U of H⁻¹ (UᵀU = H⁻¹), in processing order;
 *                       the identity when {@code fallback}
 * @param fallback       true when the factorisation failed (GPTQ degenerates to RTN)
 * @param fallbackReason why, or null
 */
public record PreparedHessian(int cols, int[] perm, boolean[] dead, float[] hinvUpper, boolean fallback,
                              String fallbackReason) {
    /** Number of dead columns. */
    public int deadCount() {
        int n = 0;
        for (boolean d : dead) if (d) n++;
        return n;
    }
}
