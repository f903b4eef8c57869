package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/**
 * The blocked Cholesky and triangular inverse by their defining identities, computed in plain loops: UᵀU = A and
 * U·V = I, at 1, 2 and 4 blocks, on one thread and on a pool; a failing pivot is reported at its row.
 */
class CholeskyKernelsTest {
    static double[] spd(int n, long seed) {
        Random r = new Random(seed);
        double[] g = new double[n * n];
        for (int i = 0; i < g.length; i++) g[i] = r.nextGaussian();
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += g[k * n + i] * g[k * n + j];
                a[i * n + j] = s + (i == j ? n : 0);
            }
        return a;
    }

    @Test
    void factorAndInverseSatisfyTheirIdentities() {
        ForkJoinPool pool = new ForkJoinPool(3);
        try {
            for (int n : new int[]{64, 128, 256}) {
                for (ForkJoinPool p : new ForkJoinPool[]{null, pool}) {
                    double[] a = spd(n, n), u = a.clone();
                    assertEquals(-1, CholeskyKernels.choleskyUpper(u, n, p));
                    for (int i = 0; i < n; i++) {
                        for (int j = i; j < n; j++) {
                            double s = 0;
                            for (int k = 0; k <= i; k++) s += u[k * n + i] * u[k * n + j];
                            assertEquals(a[i * n + j], s, 1e-9 * n, "UᵀU n=" + n + " (" + i + "," + j + ")");
                        }
                    }
                    double[] v = CholeskyKernels.invertUpper(u, n, p);
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < n; j++) {
                            if (j < i) {
                                assertEquals(0.0, v[i * n + j], "V lower triangle");
                                continue;
                            }
                            double s = 0;
                            for (int k = i; k <= j; k++) s += u[i * n + k] * v[k * n + j];
                            assertEquals(i == j ? 1 : 0, s, 1e-10, "UV n=" + n + " (" + i + "," + j + ")");
                        }
                    }
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void reportsTheFailingPivotAndRejectsUnpaddedSizes() {
        int n = 128;
        double[] a = spd(n, 1);
        a[70 * n + 70] = -1;
        assertEquals(70, CholeskyKernels.choleskyUpper(a, n, null));
        assertThrows(IllegalArgumentException.class, () -> CholeskyKernels.choleskyUpper(new double[100], 10, null));
    }
}
