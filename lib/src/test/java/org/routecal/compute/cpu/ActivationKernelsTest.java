package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The float vector activations against the double-precision plain ones (the scalar backend's): within a few float
 * ulp on random rows of every length around the vector width, at row offsets, with extreme and special gate values
 * (±80, ±1000, ±∞, NaN) where exp overflows or underflows.
 */
class ActivationKernelsTest {
    private static final float[] SPECIAL = {0f, -0f, 80f, -80f, 1000f, -1000f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1e-30f};

    private static float[] rows(Random r, int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) g[i] = (float) (r.nextGaussian() * 4);
        for (int i = 0; i < n; i += 7) g[i] = SPECIAL[(i / 7) % SPECIAL.length];
        return g;
    }

    private static void assertClose(float want, float got, String what) {
        if (Float.isNaN(want) || Float.isInfinite(want)) assertEquals(want, got, what);
        else assertEquals(want, got, 4 * Math.ulp(Math.max(Math.abs(want), Float.MIN_NORMAL)) + 1e-30, what);
    }

    @Test
    void siluMulVectorMatchesTheDoubleReference() {
        Random r = new Random(3);
        for (int inter : new int[]{1, 15, 16, 17, 33, 64, 100, 768}) {
            float[] g = rows(r, 5 + 2 * inter), want = new float[3 + inter], got = new float[3 + inter];
            ActivationKernels.siluMulPlain(g, 5, want, 3, inter, 0);
            ActivationKernels.siluMulVector(g, 5, got, 3, inter);
            for (int i = 0; i < inter; i++) assertClose(want[3 + i], got[3 + i], "inter " + inter + ", i " + i + ", gate " + g[5 + i]);
            assertEquals(0f, got[0], "nothing written before the row");
        }
    }

    @Test
    void clampedSwigluVectorMatchesTheDoubleReference() {
        Random r = new Random(4);
        for (int inter : new int[]{1, 16, 31, 90, 2880}) {
            float[] g = rows(r, 5 + 2 * inter), want = new float[3 + inter], got = new float[3 + inter];
            ActivationKernels.clampedSwigluPlain(g, 5, want, 3, inter, 1.702f, 7f, 0);
            ActivationKernels.clampedSwigluVector(g, 5, got, 3, inter, 1.702f, 7f);
            for (int i = 0; i < inter; i++) assertClose(want[3 + i], got[3 + i], "inter " + inter + ", i " + i + ", gate " + g[5 + i]);
        }
    }
}
