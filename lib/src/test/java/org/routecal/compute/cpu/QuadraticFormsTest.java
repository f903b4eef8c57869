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

    @ParameterizedTest(name = "rows {0}, cols {1}, n {2}")
    @CsvSource({"1,1,1", "3,17,5", "33,100,16", "70,130,40", "65,64,200"})
    void fromTheRowsOfHMatchesTheGramForm(int rows, int cols, int n) {
        // H = Σ_t c_t x_tᵀx_t given by its rows: the trace from D·Xᵀ equals the Gram form's and the plain loop's
        Random r = new Random(rows * 7L + cols * 3L + n);
        float[] a = new float[rows * cols], b = new float[rows * cols], x = new float[n * cols], c = new float[n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
            b[i] = a[i] + (float) (0.01 * r.nextGaussian());
        }
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int t = 0; t < n; t++) c[t] = 0.5f + r.nextFloat();
        double[] h = new double[cols * cols];
        for (int t = 0; t < n; t++) for (int i = 0; i < cols; i++) for (int j = 0; j < cols; j++) h[i * cols + j] += (double) c[t] * x[t * cols + i] * x[t * cols + j];
        double want = 0;
        for (int row = 0; row < rows; row++) {
            for (int t = 0; t < n; t++) {
                double y = 0;
                for (int i = 0; i < cols; i++) y += ((double) a[row * cols + i] - b[row * cols + i]) * x[t * cols + i];
                want += c[t] * y * y;
            }
        }
        double fromRows = QuadraticForms.traceOfDifference(a, b, rows, cols, x, n, c, null);
        assertEquals(want, fromRows, 1e-12 * Math.abs(want), "against the plain loop");
        assertEquals(QuadraticForms.traceOfDifference(a, b, rows, cols, h, null), fromRows, 1e-11 * Math.abs(want), "against the Gram form");
        assertEquals(Double.doubleToRawLongBits(fromRows), Double.doubleToRawLongBits(QuadraticForms.traceOfDifference(a, b, rows, cols, x, n, c, POOL)),
                "the same bits on a pool");
        double unweighted = 0;
        for (int row = 0; row < rows; row++) for (int t = 0; t < n; t++) {
            double y = 0;
            for (int i = 0; i < cols; i++) y += ((double) a[row * cols + i] - b[row * cols + i]) * x[t * cols + i];
            unweighted += y * y;
        }
        assertEquals(unweighted, QuadraticForms.traceOfDifference(a, b, rows, cols, x, n, null, POOL), 1e-12 * unweighted, "c null: all 1");
    }

    @Test
    void emptyIsZeroAndShortInputsAreRefused() {
        assertEquals(0.0, QuadraticForms.traceOfDifference(new float[0], new float[0], 0, 4, new double[16], null));
        assertThrows(IllegalArgumentException.class, () -> QuadraticForms.traceOfDifference(new float[3], new float[4], 1, 4, new double[16], null));
        assertThrows(IllegalArgumentException.class, () -> QuadraticForms.traceOfDifference(new float[4], new float[4], 1, 4, new double[15], null));
    }
}
