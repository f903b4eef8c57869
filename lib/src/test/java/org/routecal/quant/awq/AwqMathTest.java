package org.routecal.quant.awq;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.quant.ExpertTokenWeights;
import org.routecal.quant.MoeMode;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.ScaleDType;

/** Folding keeps the function, the smoothed Hessian keeps the objective, the calibration modes weigh tokens as stated. */
class AwqMathTest {
    static final Random RND = new Random(11);

    static float[] gaussian(int n, double sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (RND.nextGaussian() * sd);
        return v;
    }

    static double[] positiveScales(int n) {
        double[] s = new double[n];
        for (int i = 0; i < n; i++) s[i] = Math.exp(RND.nextGaussian());
        return s;
    }

    @Test
    void foldingIntoNormAndColumnsKeepsTheOutput() {
        int rows = 6, cols = 10;
        float[] w = gaussian(rows * cols, 1), gamma = gaussian(cols, 1), xhat = gaussian(cols, 1);
        double[] s = positiveScales(cols);
        float[] w2 = AwqFold.scaleColumns(w, rows, cols, s), g2 = AwqFold.divideNorm(gamma, s);
        for (int r = 0; r < rows; r++) {
            double y = 0, y2 = 0;
            for (int c = 0; c < cols; c++) {
                y += w[r * cols + c] * gamma[c] * xhat[c];
                y2 += w2[r * cols + c] * g2[c] * xhat[c];
            }
            assertEquals(y, y2, 1e-5 * (1 + Math.abs(y)), "row " + r);
        }
    }

    @Test
    void foldingUpIntoDownKeepsTheExpert() {
        int hidden = 8, inter = 5;
        float[] gate = gaussian(inter * hidden, 1), up = gaussian(inter * hidden, 1), down = gaussian(hidden * inter, 1), x = gaussian(hidden, 1);
        double[] s = positiveScales(inter);
        float[] up2 = AwqFold.divideRows(up, inter, hidden, s), down2 = AwqFold.scaleColumns(down, hidden, inter, s);
        double[] a = new double[inter], a2 = new double[inter];
        for (int i = 0; i < inter; i++) {
            double g = 0, u = 0, u2 = 0;
            for (int c = 0; c < hidden; c++) {
                g += gate[i * hidden + c] * x[c];
                u += up[i * hidden + c] * x[c];
                u2 += up2[i * hidden + c] * x[c];
            }
            double silu = g / (1 + Math.exp(-g));
            a[i] = silu * u;
            a2[i] = silu * u2;
        }
        for (int h = 0; h < hidden; h++) {
            double y = 0, y2 = 0;
            for (int i = 0; i < inter; i++) {
                y += down[h * inter + i] * a[i];
                y2 += down2[h * inter + i] * a2[i];
            }
            assertEquals(y, y2, 1e-5 * (1 + Math.abs(y)));
        }
        float[] bias = gaussian(inter + 2, 1), b2 = AwqFold.divideBias(bias, s);
        assertEquals(bias[0], b2[0]); // only the last s.length entries (the fused-qkv edge case)
        assertEquals(bias[inter + 1] / s[inter - 1], b2[inter + 1], 1e-6);
    }

    @Test
    void smoothedHessianKeepsTheOutputErrorOfAWeightChange() {
        int rows = 4, n = 7, tokens = 30;
        float[] x = gaussian(tokens * n, 1);
        double[] h = new double[n * n];
        for (int t = 0; t < tokens; t++) for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) h[i * n + j] += x[t * n + i] * x[t * n + j];
        double[] s = positiveScales(n);
        double[] hs = AwqFold.smoothedHessian(h, n, s);
        float[] dw = gaussian(rows * n, 1);
        double plain = 0, smoothed = 0;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    plain += dw[r * n + i] * h[i * n + j] * dw[r * n + j];
                    smoothed += (dw[r * n + i] * s[i]) * hs[i * n + j] * (dw[r * n + j] * s[j]); // ΔW·S against S⁻¹HS⁻¹
                }
            }
        }
        assertEquals(plain, smoothed, 1e-9 * plain);
    }

    @Test
    void calibrationModesWeighTokensAsTheHessiansDo() {
        float[] routing = {0.6f, 0f, 0.3f, 0f, 0.9f, 0f, 0f, 0f};
        ExpertTokenWeights r = ExpertTokenWeights.of(MoeMode.ROUTED, 0.5, 1, true, routing);
        assertArrayEquals(new float[]{1, 0, 1, 0, 1, 0, 0, 0}, r.weights());
        assertArrayEquals(new int[]{0, 2, 4}, r.tokens());
        assertEquals(3, r.routed());
        assertArrayEquals(new float[]{1, 1, 1, 1, 1, 1, 1, 1}, ExpertTokenWeights.of(MoeMode.ALL, 0.5, 1, true, routing).weights());
        assertArrayEquals(new float[]{0.6f, 0, 0.3f, 0, 0.9f, 0, 0, 0}, ExpertTokenWeights.of(MoeMode.WEIGHTED, 0.5, 1, true, routing).weights());
        // hybrid: routed + λ·(n_r/n)·all = 1 + 0.5·3/8 on routed tokens, 0.1875 elsewhere; total mass = 3 + λ·3
        float[] hy = ExpertTokenWeights.of(MoeMode.HYBRID, 0.5, 1, true, routing).weights();
        assertEquals(1.1875f, hy[0], 1e-7f);
        assertEquals(0.1875f, hy[1], 1e-7f);
        double mass = 0;
        for (float w : hy) mass += w;
        assertEquals(3 + 0.5 * 3, mass, 1e-6);
        ExpertTokenWeights fewAll = ExpertTokenWeights.of(MoeMode.ROUTED, 0.5, 4, true, routing);
        assertEquals("all", fewAll.fallback());
        assertEquals(8, fewAll.tokens().length);
        ExpertTokenWeights fewRtn = ExpertTokenWeights.of(MoeMode.HYBRID, 0.5, 4, false, routing);
        assertEquals("rtn", fewRtn.fallback());
        assertNull(fewRtn.weights());
    }

    @Test
    void weightedActivationMean() {
        ActivationMean m = new ActivationMean(2);
        assertNull(m.mean());
        m.add(new float[]{1, -2, 3, 4, -5, 6}, 3, new float[]{1, 0, 3});
        assertEquals(4, m.mass());
        assertArrayEquals(new float[]{(1 + 15) / 4f, (2 + 18) / 4f}, m.mean());
    }

    @Test
    void gridsFollowTheReference() {
        List<AwqArgs.GridPoint> on = AwqArgs.DEFAULT.grid();
        assertEquals(20, on.size());
        assertEquals(new AwqArgs.GridPoint(0, false), on.get(0)); // the identity first
        assertEquals(new AwqArgs.GridPoint(1, true), on.get(19));
        assertEquals(1.0 / 18, on.get(2).ratio(), 1e-15);
        List<AwqArgs.GridPoint> both = new AwqArgs(20, AwqArgs.DuoScaling.BOTH).grid();
        assertEquals(20, both.size());
        assertEquals(new AwqArgs.GridPoint(1.0 / 9, true), both.get(3));
        assertEquals(1.0, new AwqArgs(5, AwqArgs.DuoScaling.OFF).grid().get(4).ratio());
    }

    @Test
    void searchTakesTheFirstMinimumAndRefusesBadInput() {
        int rows = 8, cols = 32;
        AwqBalance b = new AwqBalance("down", gaussian(rows * cols, 0.05), rows, cols, new IntScheme(3, true, 16, ScaleDType.F32));
        float[] xm = new float[cols];
        for (int j = 0; j < cols; j++) xm[j] = (float) Math.exp(RND.nextGaussian());
        AwqResult r = AwqSearch.search("up", xm, List.of(b), AwqArgs.DEFAULT, w -> 1.0); // a flat loss: the first point wins
        assertEquals(0, r.bestRatio());
        assertFalse(r.bestDuo());
        for (double s : r.scales()) assertEquals(1.0, s);
        RoutecalException e = assertThrows(RoutecalException.class, () -> AwqSearch.search("up", new float[cols + 1], List.of(b), AwqArgs.DEFAULT, w -> 1.0));
        assertTrue(e.getMessage().contains("down"), e.getMessage());
        float[] nan = xm.clone();
        nan[3] = Float.NaN;
        assertThrows(RoutecalException.class, () -> AwqSearch.search("up", nan, List.of(b), AwqArgs.DEFAULT, w -> 1.0));
        assertThrows(RoutecalException.class, () -> AwqSearch.search("up", xm, List.of(b), AwqArgs.DEFAULT, w -> Double.NaN));
        AwqBalance router = new AwqBalance("gate", gaussian(4 * cols, 1), 4, cols, null);
        assertThrows(RoutecalException.class, () -> AwqSearch.search("norm", xm, List.of(router), AwqArgs.DEFAULT, w -> 1.0));
        assertEquals("no tokens", AwqSearch.skipped(cols, "no tokens").skipped());
    }

    @Test
    void perExpertLossSumsEachExpertsWeightedError() {
        int hidden = 16, inter = 8, n = 10;
        IntScheme s = new IntScheme(4, true, 16, ScaleDType.F32);
        List<AwqBalance> b = List.of(new AwqBalance("e0.gate", gaussian(inter * hidden, 0.1), inter, hidden, s),
                new AwqBalance("e0.up", gaussian(inter * hidden, 0.1), inter, hidden, s));
        float[] x = gaussian(n * hidden, 1), down = gaussian(hidden * inter, 0.1);
        int[] all = new int[n];
        float[] ones = new float[n], twos = new float[n];
        for (int t = 0; t < n; t++) {
            all[t] = t;
            ones[t] = 1;
            twos[t] = 2;
        }
        MoeBlockLoss per1 = new MoeBlockLoss(b, x, n, hidden, List.of(new MoeBlockLoss.Mlp(0, 1, down, inter, all, ones)), MoeBlockLoss.Combine.PER_EXPERT);
        MoeBlockLoss per2 = new MoeBlockLoss(b, x, n, hidden, List.of(new MoeBlockLoss.Mlp(0, 1, down, inter, all, twos)), MoeBlockLoss.Combine.PER_EXPERT);
        MoeBlockLoss block = new MoeBlockLoss(b, x, n, hidden, List.of(new MoeBlockLoss.Mlp(0, 1, down, inter, all, ones)), MoeBlockLoss.Combine.BLOCK);
        List<float[]> q = List.of(AwqSearch.fakeQuantizeScaled(b.get(0), ones(hidden)), AwqSearch.fakeQuantizeScaled(b.get(1), ones(hidden)));
        double l = per1.loss(q);
        assertTrue(l > 0);
        assertEquals(l, per2.loss(q), 1e-12 * l, "uniform token weights cancel in the mean");
        assertEquals(l, block.loss(q), 1e-9 * l, "one expert with weight 1 on every token: block = per-expert");
        assertEquals(0, per1.loss(List.of(b.get(0).weight(), b.get(1).weight())));
    }

    static double[] ones(int n) {
        double[] o = new double[n];
        java.util.Arrays.fill(o, 1);
        return o;
    }
}
