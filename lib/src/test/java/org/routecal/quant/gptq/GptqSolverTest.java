package org.routecal.quant.gptq;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

/** GPTQ on small hand-made problems (8×6 weights) and its structural properties. */
class GptqSolverTest {
    static final IntScheme W4 = new IntScheme(4, true, 0, ScaleDType.F32);
    static final IntScheme W4G2 = new IntScheme(4, true, 2, ScaleDType.F32);

    static float[] randomW(int rows, int cols, long seed) {
        Random r = new Random(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        return w;
    }

    /** H = XᵀX for X [tokens, cols] with correlated columns. */
    static double[] hessian(int cols, int tokens, long seed) {
        Random r = new Random(seed);
        double[] x = new double[tokens * cols];
        for (int t = 0; t < tokens; t++) {
            double common = r.nextGaussian();
            for (int c = 0; c < cols; c++) x[t * cols + c] = r.nextGaussian() * (1 + c) * 0.3 + common;
        }
        double[] h = new double[cols * cols];
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < cols; i++)
                for (int j = 0; j < cols; j++) h[i * cols + j] += 2 * x[t * cols + i] * x[t * cols + j];
        return h;
    }

    /** tr((W−Q) H (W−Q)ᵀ): the layer-output error GPTQ minimises. */
    static double outputError(float[] w, float[] q, double[] h, int rows, int cols) {
        double e = 0;
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < cols; i++)
                for (int j = 0; j < cols; j++)
                    e += (w[r * cols + i] - q[r * cols + i]) * h[i * cols + j] * (w[r * cols + j] - q[r * cols + j]);
        return e;
    }

    @Test
    void identityHessianGivesRtn() {
        float[] w = randomW(8, 6, 1);
        double[] h = new double[36];
        for (int i = 0; i < 6; i++) h[i * 6 + i] = 3.0;
        for (ActOrder ao : ActOrder.values()) {
            GptqResult g = GptqSolver.quantize("m", W4G2, w, 8, 6, h, new GptqArgs(128, 0.01, ao), Float.NaN);
            assertArrayEquals(Rtn.quantize(W4G2, w, 8, 6).codes(), g.weight().codes(), ao.name());
            assertFalse(g.fallback());
        }
    }

    @Test
    void gptqBeatsRtnOnCorrelatedInputs() {
        double gptqTotal = 0, rtnTotal = 0;
        for (long seed = 0; seed < 5; seed++) {
            float[] w = randomW(8, 6, seed);
            double[] h = hessian(6, 64, seed + 100);
            for (GptqArgs args : List.of(new GptqArgs(128, 0.01, ActOrder.NONE), new GptqArgs(2, 0.01, ActOrder.STATIC))) {
                GptqResult g = GptqSolver.quantize("m", W4, w, 8, 6, h, args, Float.NaN);
                gptqTotal += outputError(w, g.weight().dequantize(), h, 8, 6);
                rtnTotal += outputError(w, Rtn.quantize(W4, w, 8, 6).dequantize(), h, 8, 6);
            }
        }
        assertTrue(gptqTotal < 0.8 * rtnTotal, "gptq " + gptqTotal + " vs rtn " + rtnTotal);
    }

    @Test
    void blockSizeDoesNotChangeTheResultBeyondRounding() {
        float[] w = randomW(8, 6, 7);
        double[] h = hessian(6, 64, 8);
        int[] a = GptqSolver.quantize("m", W4, w, 8, 6, h, new GptqArgs(128, 0.01, ActOrder.NONE), Float.NaN).weight().codes();
        int[] b = GptqSolver.quantize("m", W4, w, 8, 6, h, new GptqArgs(4, 0.01, ActOrder.NONE), Float.NaN).weight().codes();
        int diff = 0;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) diff++;
        assertTrue(diff <= 1, "lazy block update must equal the immediate update, differing codes: " + diff);
    }

    @Test
    void deadColumnsAreZeroed() {
        float[] w = randomW(8, 6, 3);
        double[] h = hessian(6, 64, 4);
        for (int j = 0; j < 6; j++) { h[2 * 6 + j] = 0; h[j * 6 + 2] = 0; }
        GptqResult g = GptqSolver.quantize("m", W4G2, w, 8, 6, h, new GptqArgs(128, 0.01, ActOrder.STATIC), Float.NaN);
        assertEquals(1, g.deadColumns());
        float[] d = g.weight().dequantize();
        for (int r = 0; r < 8; r++) assertEquals(0f, d[r * 6 + 2]);
    }

    @Test
    void choleskyFailureFallsBackToRtnAndIsFlagged() {
        float[] w = randomW(8, 6, 5);
        double[] h = hessian(6, 64, 6);
        h[0] = -1e6; // negative diagonal: not positive definite even after damping
        GptqResult g = GptqSolver.quantize("m", W4, w, 8, 6, h, new GptqArgs(128, 0.01, ActOrder.NONE), Float.NaN);
        assertTrue(g.fallback());
        assertNotNull(g.fallbackReason());
        assertArrayEquals(Rtn.quantize(W4, w, 8, 6).codes(), g.weight().codes());
    }

    @Test
    void nanInHessianOrWeightNamesTheModule() {
        float[] w = randomW(8, 6, 5);
        double[] h = hessian(6, 64, 6);
        h[7] = Double.NaN;
        RoutecalException e = assertThrows(RoutecalException.class,
                () -> GptqSolver.quantize("model.layers.1.mlp.experts.2.up_proj", W4, w, 8, 6, h, GptqArgs.DEFAULT, Float.NaN));
        assertTrue(e.getMessage().contains("model.layers.1.mlp.experts.2.up_proj"));
        double[] h2 = hessian(6, 64, 6);
        w[3] = Float.POSITIVE_INFINITY;
        e = assertThrows(RoutecalException.class, () -> GptqSolver.quantize("x.q_proj", W4, w, 8, 6, h2, GptqArgs.DEFAULT, Float.NaN));
        assertTrue(e.getMessage().contains("x.q_proj"));
    }

    @Test
    void groupActOrderStoresAPermutedGrouping() {
        float[] w = randomW(8, 6, 9);
        double[] h = hessian(6, 64, 10);
        GptqResult g = GptqSolver.quantize("m", W4G2, w, 8, 6, h, new GptqArgs(128, 0.01, ActOrder.GROUP), Float.NaN);
        int[] gIdx = g.weight().gIdx();
        assertNotNull(gIdx);
        int[] perGroup = new int[3];
        for (int c : gIdx) perGroup[c]++;
        assertArrayEquals(new int[]{2, 2, 2}, perGroup);
        // the two columns with the largest Hessian diagonal form group 0
        int top = 0;
        for (int c = 1; c < 6; c++) if (h[c * 6 + c] > h[top * 6 + top]) top = c;
        assertEquals(0, gIdx[top]);
        assertNull(GptqSolver.quantize("m", W4G2, w, 8, 6, h, new GptqArgs(128, 0.01, ActOrder.STATIC), Float.NaN).weight().gIdx());
    }

    @Test
    void sharedHessianBatchEqualsIndividualSolves() {
        double[] h = hessian(6, 64, 11);
        List<float[]> ws = List.of(randomW(8, 6, 12), randomW(8, 6, 13), randomW(8, 6, 14));
        List<GptqResult> batch = GptqSolver.quantizeShared("m", W4G2, ws, 8, 6, h, GptqArgs.DEFAULT, null);
        for (int i = 0; i < ws.size(); i++) {
            QuantizedWeight one = GptqSolver.quantize("m", W4G2, ws.get(i), 8, 6, h, GptqArgs.DEFAULT, Float.NaN).weight();
            assertArrayEquals(one.codes(), batch.get(i).weight().codes());
        }
    }

    @Test
    void upperFactorOfInverseSatisfiesUtU() {
        int n = 9;
        double[] a = hessian(n, 40, 15);
        for (int i = 0; i < n; i++) a[i * n + i] += 0.5;
        float[] u = new float[n * n];
        assertNull(CholeskyInverse.upperFactorOfInverse(a, n, u));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) assertEquals(0f, u[i * n + j]);
        // (UᵀU)·A = I
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    double utu = 0;
                    for (int m = 0; m < n; m++) utu += (double) u[m * n + i] * u[m * n + k];
                    s += utu * a[k * n + j];
                }
                assertEquals(i == j ? 1 : 0, s, 1e-4);
            }
        }
    }
}
