package org.routecal.quant.awq;

/**
 * Streaming mean |x| per channel (AWQ's x̄), over rows with optional token weights: Σ_t c_t·|x_t| / Σ_t c_t.
 * llm-compressor accumulates Σ|x| and the row count from a hook on the first balance layer's input; a calibration
 * mode's weights ({@code quant.ExpertTokenWeights}) generalize the count.
 */
public final class ActivationMean {
    private final double[] sum;
    private double mass;

    public ActivationMean(int cols) {
        this.sum = new double[cols];
    }

    /**
     * Adds rows.
     *
     * @param x       [rows, cols] row-major
     * @param weights [rows] token weights, or null for all 1; rows of weight 0 are skipped
     */
    public void add(float[] x, int rows, float[] weights) {
        int cols = sum.length;
        if (x.length < (long) rows * cols) throw new IllegalArgumentException("x has " + x.length + " values, expected " + rows + "×" + cols);
        for (int r = 0; r < rows; r++) {
            double c = weights == null ? 1 : weights[r];
            if (!(c > 0)) continue;
            for (int j = 0; j < cols; j++) sum[j] += c * Math.abs(x[r * cols + j]);
            mass += c;
        }
    }

    /** Σ c_t over the rows added. */
    public double mass() {
        return mass;
    }

    /** [cols] the mean, rounded to float32 as the reference keeps it; null when no row was added. */
    public float[] mean() {
        if (!(mass > 0)) return null;
        float[] m = new float[sum.length];
        for (int j = 0; j < m.length; j++) m[j] = (float) (sum[j] / mass);
        return m;
    }
}
