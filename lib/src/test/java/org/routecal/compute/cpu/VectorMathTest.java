package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The vector exp against {@code (float) Math.exp}: within 1 ulp wherever the result is a normal float (4.4 million
 * arguments from −87.3 to 88.7 covering every binade), the special values exactly, subnormal results within one
 * subnormal step, the one-value form bit-identical to a lane of the vector form, and the same bits before and after
 * the JIT compiles it (the Vector API's own EXP differs there, which made forward passes irreproducible).
 */
class VectorMathTest {
    private static final int L = VectorMath.F.length();
    private static final int STEP = 499;

    private static float[] vectorExp(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += L) VectorMath.exp(FloatVector.fromArray(VectorMath.F, x, i)).intoArray(y, i);
        return y;
    }

    /** Every 499th float bit pattern from ±0 to 88.7 and −87.3 (odd step: both parities of the low bits, every binade). */
    private static float[] arguments() {
        int pos = Float.floatToRawIntBits(88.7f) / STEP, neg = (Float.floatToRawIntBits(-87.3f) - 0x80000000) / STEP;
        float[] x = new float[(pos + neg + L - 1) / L * L];
        for (int i = 0; i < pos; i++) x[i] = Float.intBitsToFloat(i * STEP);
        for (int i = 0; i < neg; i++) x[pos + i] = Float.intBitsToFloat(0x80000000 + i * STEP);
        return x;
    }

    @Test
    void withinOneUlpOfMathExpOverTheNormalRange() {
        float[] x = arguments(), y = vectorExp(x);
        assertTrue(x.length > 4_000_000, "coverage: " + x.length);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            float want = (float) Math.exp(x[i]);
            double ulps = Math.abs(y[i] - (double) want) / Math.ulp(want);
            if (ulps > worst) {
                worst = ulps;
                worstAt = x[i];
            }
        }
        assertTrue(worst <= 1, "worst " + worst + " ulp at x = " + worstAt);
    }

    @Test
    void specialValuesAndTheEdgesOfTheRange() {
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 88.72f, 89f, 1000f,
                -1000f, -103.9f, -104f, -120f, -87.5f, -95f, -100f, Float.MAX_VALUE};
        float[] x = Arrays.copyOf(special, (special.length + L - 1) / L * L);
        float[] y = vectorExp(x);
        for (int i = 0; i < special.length; i++) {
            float want = (float) Math.exp(x[i]);
            if (Float.isNaN(want) || Float.isInfinite(want) || want == 0f || want == 1f) {
                assertEquals(want, y[i], "exp(" + x[i] + ")");
            } else if (want < Float.MIN_NORMAL) {
                assertEquals(want, y[i], Float.MIN_VALUE, "subnormal exp(" + x[i] + ")");
            } else {
                assertEquals(want, y[i], Math.ulp(want), "exp(" + x[i] + ")");
            }
        }
    }

    @Test
    void oneValueFormMatchesTheVectorLanesBitForBit() {
        float[] x = arguments(), y = vectorExp(x);
        for (int i = 0; i < x.length; i += 7) {
            assertEquals(Float.floatToIntBits(y[i]), Float.floatToIntBits(VectorMath.exp(x[i])), "exp(" + x[i] + ")");
        }
        float[] special = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -104f, 89f, -100f};
        float[] ys = vectorExp(Arrays.copyOf(special, (special.length + L - 1) / L * L));
        for (int i = 0; i < special.length; i++) {
            assertEquals(Float.floatToIntBits(ys[i]), Float.floatToIntBits(VectorMath.exp(special[i])), "exp(" + special[i] + ")");
        }
    }

    @Test
    void sameBitsInterpretedAndCompiled() {
        float[] x = new float[L * 64];
        for (int i = 0; i < x.length; i++) x[i] = -20f + 40f * i / x.length;
        float[] first = vectorExp(x); // the first calls run before C2 has compiled exp
        float[] y = first;
        for (int i = 0; i < 20_000; i++) y = vectorExp(x);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(first[i]), Float.floatToIntBits(y[i]), "exp(" + x[i] + ") after warm-up");
        }
    }
}
