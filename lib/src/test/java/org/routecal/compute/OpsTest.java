package org.routecal.compute;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.compute.cpu.ReferenceOps;
import org.routecal.compute.cpu.VectorOps;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every fast op against the scalar reference (STYLE H4), at each vector width, with odd sizes to hit the tails. */
class OpsTest {
    private static final Ops REF = new ReferenceOps();

    private static double nmse(float[] ref, float[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) { num += Math.pow(ref[i] - got[i], 2); den += (double) ref[i] * ref[i]; }
        return num / Math.max(den, 1e-30);
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** The width is fixed per JVM (a static final species, see VectorOps); run with -Droutecal.vectorBits=… for others. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void matmulDotAxpyMatchReference(int threads) {
        Ops fast = new VectorOps(threads);
        Random r = new Random(threads);
        for (int[] dims : new int[][]{{1, 7, 5}, {5, 33, 9}, {17, 64, 130}, {64, 96, 200}}) {
            int rows = dims[0], in = dims[1], out = dims[2];
            float[] x = random(r, rows * in), w = random(r, out * in), b = random(r, out);
            float[] y1 = new float[rows * out], y2 = new float[rows * out];
            REF.matmulTransposed(x, rows, in, w, out, b, y1);
            fast.matmulTransposed(x, rows, in, w, out, b, y2);
            assertTrue(nmse(y1, y2) < 1e-10, "matmul " + rows + "x" + in + "x" + out + " nmse " + nmse(y1, y2));
            float[] a1 = random(r, in), a2 = a1.clone(), v = random(r, in);
            REF.axpy(0.3f, v, 0, a1, 0, in);
            fast.axpy(0.3f, v, 0, a2, 0, in);
            assertTrue(nmse(a1, a2) < 1e-12);
            float d1 = REF.dot(x, 0, w, 0, in), d2 = fast.dot(x, 0, w, 0, in);
            assertTrue(Math.abs(d1 - d2) <= 1e-4 * Math.max(1, Math.abs(d1)));
        }
    }
}
