package org.routecal.quant.alloc;

import org.routecal.compute.cpu.CpuThreads;
import org.routecal.compute.cpu.QuadraticForms;
import org.routecal.quant.gptq.GptqResult;

/**
 * The measured sensitivity of a quantized weight on calibration data: its layer-output error tr(ΔW·H·ΔWᵀ), ΔW = W − Q
 * and H = Σ_t x_tᵀx_t the Hessian of its inputs (any constant factor carries through to the allocation unchanged).
 * Summed over an expert's gate/up/down, it is the expert's sensitivity at that width.
 */
public final class ExpertSensitivity {
    private ExpertSensitivity() {}

    /** tr((W − Q)·H·(W − Q)ᵀ) directly: rows·cols² multiply-adds. w, q [rows, cols]; h [cols, cols] row-major. */
    public static double outputError(float[] w, float[] q, double[] h, int rows, int cols) {
        return QuadraticForms.traceOfDifference(w, q, rows, cols, h, CpuThreads.sharedPool());
    }

    /**
     * The same from GPTQ's own loss in rows·cols: GPTQ's loss Σ e²/(2·d²) is exactly ½·tr(ΔW·(H + λI)·ΔWᵀ) over the
     * live columns (λ its damping, dampFrac · mean of the diagonal with dead entries counted as 1), so
     * tr(ΔW·H·ΔWᵀ) = 2·loss − λ·‖ΔW‖² with dead columns left out (GPTQ zeroes their weights; they see no input).
     * Not valid after a Cholesky fallback (then the loss is the plain squared error).
     *
     * @param w        [rows, cols] the weight GPTQ was given
     * @param h        [cols, cols] the Hessian it was given (undamped)
     * @param dampFrac its {@code GptqArgs.dampeningFrac}
     */
    public static double fromGptqLoss(GptqResult r, float[] w, double[] h, int rows, int cols, double dampFrac) {
        if (r.fallback()) throw new IllegalArgumentException("GPTQ fell back to RTN (" + r.fallbackReason() + "): its loss is not the output error");
        double diag = 0;
        boolean[] dead = new boolean[cols];
        for (int i = 0; i < cols; i++) {
            double v = h[i * cols + i];
            dead[i] = v == 0;
            diag += dead[i] ? 1 : v;
        }
        double lambda = dampFrac * diag / cols;
        float[] q = r.weight().dequantize();
        double dw2 = 0;
        for (int rr = 0; rr < rows; rr++) {
            for (int i = 0; i < cols; i++) {
                if (dead[i]) continue;
                double d = (double) w[rr * cols + i] - q[rr * cols + i];
                dw2 += d * d;
            }
        }
        return 2 * r.loss() - lambda * dw2;
    }
}
