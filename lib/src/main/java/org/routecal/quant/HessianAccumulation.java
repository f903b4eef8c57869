package org.routecal.quant;

/** Public entry to the stage's Hessian accumulation, so the benchmark times exactly the production loop. */
public final class HessianAccumulation {
    private HessianAccumulation() {}

    /** h [n, n] upper triangle += XᵀX of x [rows, n]. */
    public static void accumulate(double[] h, int n, float[] x, int rows) {
        HessianCollector.accumulate(h, n, x, rows, null, false);
    }
}
