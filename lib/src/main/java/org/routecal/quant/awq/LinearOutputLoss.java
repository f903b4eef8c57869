package org.routecal.quant.awq;

import java.util.List;
import org.routecal.compute.cpu.CpuThreads;
import org.routecal.compute.cpu.QuadraticForms;

/**
 * The loss when the balances' parent is the Linear layers themselves (llm-compressor's up_proj → down_proj mapping,
 * whose parent is down_proj): the mean squared difference of their outputs, Σ_b Σ_t c_t ‖(W'_b − W_b)·x_t‖² divided
 * by the token mass times the balances' total output rows. Unquantized balances contribute zero error but count in
 * the denominator, as their outputs would in the parent's.
 *
 * <p>Two exact forms: sample rows ({@link #ofRows}: n·rows·cols per evaluation, the cheaper while n < cols) or their
 * Gram matrix H = Σ_t c_t x_tᵀx_t ({@link #ofGram}: rows·cols² per evaluation, and free where GPTQ already accumulates
 * H for the same tokens). Both on double tiles ({@link QuadraticForms}).
 */
public final class LinearOutputLoss implements AwqLoss {
    private final List<AwqBalance> balances;
    private final int cols;
    private final float[] x;      // [n, cols] sample rows, or null
    private final float[] weight; // [n] token weights c_t, or null (all 1)
    private final int n;
    private final double[] gram;  // [cols, cols] Σ c_t x_tᵀx_t, or null
    private final double mass;    // Σ c_t
    private final long outRows;

    private LinearOutputLoss(List<AwqBalance> balances, float[] x, float[] weight, int n, double[] gram, double mass) {
        this.balances = List.copyOf(balances);
        this.cols = balances.get(0).cols();
        this.x = x;
        this.weight = weight;
        this.n = n;
        this.gram = gram;
        this.mass = mass;
        long r = 0;
        for (AwqBalance b : balances) r += b.rows();
        this.outRows = r;
    }

    /**
     * @param x       [n, cols] row-major sample inputs of the balances
     * @param weights [n] per-token weights (a calibration mode's), or null for all 1
     */
    public static LinearOutputLoss ofRows(List<AwqBalance> balances, float[] x, int n, float[] weights) {
        int cols = balances.get(0).cols();
        if (x.length != (long) n * cols) throw new IllegalArgumentException("x has " + x.length + " values, expected " + n + "×" + cols);
        double mass = 0;
        for (int t = 0; t < n; t++) mass += weights == null ? 1 : weights[t];
        return new LinearOutputLoss(balances, x, weights, n, null, mass);
    }

    /**
     * @param gram [cols, cols] row-major Σ_t c_t x_tᵀx_t (a Hessian without GPTQ's factor 2)
     * @param mass Σ_t c_t, the token count for unweighted rows
     */
    public static LinearOutputLoss ofGram(List<AwqBalance> balances, double[] gram, double mass) {
        int cols = balances.get(0).cols();
        if (gram.length != (long) cols * cols) throw new IllegalArgumentException("Gram matrix has " + gram.length + " entries, expected " + cols + "²");
        return new LinearOutputLoss(balances, null, null, 0, gram, mass);
    }

    @Override
    public double loss(List<float[]> weights) {
        double total = 0;
        for (int b = 0; b < balances.size(); b++) {
            AwqBalance bal = balances.get(b);
            if (weights.get(b) == bal.weight()) continue; // unchanged: no error
            total += squaredError(bal, weights.get(b));
        }
        return total / (mass * outRows);
    }

    private double squaredError(AwqBalance bal, float[] w2) {
        float[] w = bal.weight();
        if (gram != null) return QuadraticForms.traceOfDifference(w2, w, bal.rows(), cols, gram, CpuThreads.sharedPool());
        return QuadraticForms.traceOfDifference(w2, w, bal.rows(), cols, x, n, weight, CpuThreads.sharedPool());
    }
}
