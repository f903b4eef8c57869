package org.routecal.quant;

import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;

/** Public entry to the stage's Hessian accumulation (the backend's gram), so the benchmark times exactly the production op. */
public final class HessianAccumulation {
    private HessianAccumulation() {}

    /** h [n, n] += XᵀX of x [rows, n] on the CPU reference backend. */
    public static void accumulate(Backend cpu, double[] h, int n, float[] x, int rows) {
        try (Tensor xt = cpu.upload(x, rows, n, TensorType.F32, "x"); Tensor ht = cpu.allocate(TensorType.F64, n, n, "h")) {
            cpu.gram(xt, null, null, new int[]{0, rows}, ht, 1f);
            double[] d = cpu.downloadDoubles(ht);
            for (int i = 0; i < d.length; i++) h[i] += d[i];
        }
    }
}
