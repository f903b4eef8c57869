package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link DoubleMatmul#timesTransposed} against the plain double loop, on shapes with partial row tiles, partial
 *  output tiles, several column blocks and W blocks, and a depth cut into several slices; and bit for bit against its
 *  own summation order (k-slices in order, each slice's products fused in k order), which no tiling may change. */
class DoubleMatmulTest {
    @ParameterizedTest(name = "rows {0}, depth {1}, out {2}")
    @CsvSource({"1,1,1", "1,7,3", "3,17,33", "5,300,20", "9,513,70", "64,64,64", "16,700,300", "37,1100,150"})
    void matchesThePlainLoop(int rows, int depth, int out) {
        Random r = new Random(rows * 31L + depth * 7L + out);
        double[] a = new double[rows * depth];
        float[] w = new float[out * depth];
        for (int i = 0; i < a.length; i++) a[i] = r.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        double[] c = DoubleMatmul.timesTransposed(a, rows, depth, w, out);
        assertEquals(rows * out, c.length);
        for (int i = 0; i < rows; i++) {
            for (int o = 0; o < out; o++) {
                double want = 0, scale = 0;
                for (int p = 0; p < depth; p++) {
                    want += a[i * depth + p] * w[o * depth + p];
                    scale += Math.abs(a[i * depth + p] * w[o * depth + p]);
                }
                assertEquals(want, c[i * out + o], 1e-13 * scale, "row " + i + ", output " + o);
                double sliced = 0;
                for (int p0 = 0; p0 < depth; p0 += DoubleMatmul.KC) {
                    double s = 0;
                    for (int p = p0; p < Math.min(depth, p0 + DoubleMatmul.KC); p++) s = Math.fma(a[i * depth + p], w[o * depth + p], s);
                    sliced += s;
                }
                assertEquals(Double.doubleToLongBits(sliced), Double.doubleToLongBits(c[i * out + o]), "bits, row " + i + ", output " + o);
            }
        }
    }
}
