package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The sweep updates must equal the scalar loops GptqSolver used before bit for bit (GPTQ codes flip on a last-bit
 * difference): products rounded then added, ascending k, summed from 0 and subtracted once. Shapes cover full tiles,
 * leftover rows, single vectors and the scalar column tail; some errors are exactly 0 (the old loop skipped them).
 */
class GptqSweepKernelsTest {
    @Test
    void bitIdenticalToTheScalarLoops() {
        Random r = new Random(4);
        for (int[] s : new int[][]{{64, 128, 896}, {7, 128, 100}, {5, 3, 17}, {64, 64, 1}}) {
            int rows = s[0], k = s[1], len = s[2], ldw = len + 9, ldu = len + 3, lde = k + 2;
            float[] w = new float[rows * ldw + 4], e = new float[rows * lde], u = new float[k * ldu];
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
            for (int i = 0; i < e.length; i++) e[i] = i % 5 == 0 ? 0f : (float) r.nextGaussian() * 1e-2f;
            for (int i = 0; i < u.length; i++) u[i] = (float) r.nextGaussian();
            float[] want = w.clone(), got = w.clone();
            for (int row = 0; row < rows; row++) {
                float[] acc = new float[len];
                for (int p = 0; p < k; p++) {
                    float ep = e[row * lde + p];
                    if (ep == 0f) continue;
                    for (int j = 0; j < len; j++) acc[j] += ep * u[p * ldu + j];
                }
                for (int j = 0; j < len; j++) want[2 + row * ldw + j] -= acc[j];
            }
            GptqSweepKernels.subtractProduct(got, 2, ldw, e, 0, lde, u, 0, ldu, rows, k, len);
            assertArrayEquals(want, got, "subtractProduct " + rows + "x" + k + "x" + len);

            // the within-block update on a transposed block: columns t of W are rows of y, W's rows are lanes
            int count = Math.min(k, 40);
            float[] y1 = new float[1 + count * rows + 2], ecol = new float[rows];
            for (int i = 0; i < y1.length; i++) y1[i] = (float) r.nextGaussian();
            float[] y2 = y1.clone();
            for (int i = 0; i < rows; i++) ecol[i] = e[i * lde];
            for (int t = 0; t < count; t++)
                for (int row = 0; row < rows; row++) y1[1 + t * rows + row] -= ecol[row] * u[3 + t];
            GptqSweepKernels.subtractOuter(y2, 1, rows, count, ecol, u, 3);
            assertArrayEquals(y1, y2, "subtractOuter " + rows + "x" + count);
        }
    }
}
