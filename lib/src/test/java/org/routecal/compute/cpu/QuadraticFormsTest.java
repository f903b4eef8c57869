package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link QuadraticForms#traceOfDifference} against the plain double loop Σ_r Σ_i d_ri Σ_j H_ij d_rj, on shapes that
 * leave partial tiles in both directions and partial tasks, with the same bits on one thread and on a pool.
 */
class QuadraticFormsTest {
    private static final ForkJoinPool POOL = new ForkJoinPool(3);

    @AfterAll
    static void closePool() {
        POOL.shutdown();
    }

    @ParameterizedTest(name = "rows {0}, cols {1}")
    @CsvSource({"1,1", "1,5", "3,17", "7,33", "33,100", "70,130", "65,64"})
    void matchesThePlainLoop(int rows, int cols) {
        Random r = new Random(rows * 131L + cols);
        float[] a = new float[rows * cols], b = new float[rows * cols];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
            b[i] = a[i] + (float) (0.01 * r.nextGaussian());
        }
        double[] x = new double[3 * cols * cols], h = new double[cols * cols]; // H = XᵀX: symmetric, positive
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
        for (int t = 0; t < 3 * cols; t++) for (int i = 0; i < cols; i++) for (int j = 0; j < cols; j++) h[i * cols + j] += x[t * cols + i] * x[t * cols + j];
        double want = 0;
        for (int row = 0; row < rows; row++) {
            for (int i = 0; i < cols; i++) {
                double di = (double) a[row * cols + i] - b[row * cols + i], hi = 0;
                for (int j = 0; j < cols; j++) hi += h[i * cols + j] * ((double) a[row * cols + j] - b[row * cols + j]);
                want += di * hi;
            }
        }
        double serial = QuadraticForms.traceOfDifference(a, b, rows, cols, h, null);
        assertEquals(want, serial, 1e-12 * Math.abs(want), "against the plain loop");
        assertEquals(Double.doubleToRawLongBits(serial), Double.doubleToRawLongBits(QuadraticForms.traceOfDifference(a, b, rows, cols, h, POOL)),
                "the same bits on a pool");
    }

    @Test
    void emptyIsZeroAndShortInputsAreRefused() {
        assertEquals(0.0, QuadraticForms.traceOfDifference(new float[0], new float[0], 0, 4, new double[16], null));
        assertThrows(IllegalArgumentException.class, () -> QuadraticForms.traceOfDifference(new float[3], new float[4], 1, 4, new double[16], null));
        assertThrows(IllegalArgumentException.class, () -> QuadraticForms.traceOfDifference(new float[4], new float[4], 1, 4, new double[15], null));
    }
}
