package org.routecal.quant.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.routecal.quant.FixtureTensors;

/**
 * The blocked, vectorised factorisation against the scalar one it replaced ({@link ScalarCholeskyInverse}): the same U
 * up to rounding at sizes around the block and tile edges, the same failure, and identical GPTQ codes on every
 * reference fixture (tests/make_quant_fixtures.py) when the sweep runs on either factor.
 */
class CholeskyInverseTest {
    /** Well-conditioned SPD test matrix: XᵀX of correlated random rows plus a damped diagonal. */
    static double[] spd(int n, long seed) {
        Random r = new Random(seed);
        int tokens = 2 * n + 8;
        double[] x = new double[tokens * n];
        for (int t = 0; t < tokens; t++) {
            double common = r.nextGaussian();
            for (int c = 0; c < n; c++) x[t * n + c] = r.nextGaussian() + 0.5 * common;
        }
        double[] a = new double[n * n];
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) a[i * n + j] += x[t * n + i] * x[t * n + j];
        for (int i = 0; i < n; i++) a[i * n + i] += 0.01 * tokens;
        return a;
    }

    @Test
    void sameFactorAsTheScalarImplementation() {
        for (int n : new int[]{1, 5, 31, 64, 65, 130, 200}) {
            double[] a = spd(n, n);
            float[] want = new float[n * n], got = new float[n * n];
            assertNull(ScalarCholeskyInverse.upperFactorOfInverse(a, n, want));
            assertNull(CholeskyInverse.upperFactorOfInverse(a, n, got));
            double maxAbs = 0;
            for (float v : want) maxAbs = Math.max(maxAbs, Math.abs(v));
            for (int i = 0; i < n * n; i++) {
                assertEquals(want[i], got[i], 1e-5 * maxAbs, "n=" + n + " (" + i / n + "," + i % n + ")");
            }
        }
    }

    @Test
    void notPositiveDefiniteNamesTheSameColumn() {
        int n = 70;
        double[] a = spd(n, 3);
        a[40 * n + 40] = -5; // fails when column 40 is reached
        float[] u = new float[n * n];
        String want = ScalarCholeskyInverse.upperFactorOfInverse(a, n, u), got = CholeskyInverse.upperFactorOfInverse(a, n, u);
        assertNotNull(got);
        assertEquals(want.substring(0, want.indexOf(" (pivot")), got.substring(0, got.indexOf(" (pivot")));
    }

    @Test
    void gptqCodesUnchangedOnTheReferenceFixtures() throws IOException {
        JsonNode all = FixtureTensors.cases();
        int cols = all.get("cols").asInt(), checked = 0;
        FixtureTensors hs = new FixtureTensors(FixtureTensors.DIR.resolve("hessians.safetensors"));
        for (Iterator<Map.Entry<String, JsonNode>> it = all.get("gptq").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode c = e.getValue();
            FixtureTensors t = new FixtureTensors(FixtureTensors.DIR.resolve("gptq_" + e.getKey() + ".safetensors"));
            float[] w = t.floats("w");
            int rows = w.length / cols;
            double[] h = hs.doubles(c.get("hessian").asText());
            GptqArgs args = new GptqArgs(128, 0.01, ActOrder.parse(c.get("actorder").asText()));
            var scheme = org.routecal.quant.ReferenceQuantTestAccess.schemeOf(c);
            float gs = org.routecal.quant.ReferenceQuantTestAccess.globalScale(c);
            PreparedHessian blocked = GptqSolver.prepare(e.getKey(), h, cols, args);
            PreparedHessian scalar = withScalarFactor(blocked, h, cols, args);
            int[] a = GptqSolver.solve(e.getKey(), scheme, w, rows, cols, blocked, args, gs).weight().codes();
            int[] b = GptqSolver.solve(e.getKey(), scheme, w, rows, cols, scalar, args, gs).weight().codes();
            assertArrayEquals(b, a, e.getKey());
            checked++;
        }
        assertTrue(checked > 0);
    }

    /** The same prepared Hessian with U from the scalar implementation (order, dead columns and damping as prepare does). */
    static PreparedHessian withScalarFactor(PreparedHessian p, double[] h, int cols, GptqArgs args) {
        int[] perm = p.perm();
        double[] a = new double[cols * cols];
        for (int i = 0; i < cols; i++)
            for (int j = 0; j < cols; j++) a[i * cols + j] = h[perm[i] * cols + perm[j]];
        double diag = 0;
        for (int i = 0; i < cols; i++) {
            if (p.dead()[i]) a[i * cols + i] = 1;
            diag += a[i * cols + i];
        }
        double damp = args.dampeningFrac() * diag / cols;
        for (int i = 0; i < cols; i++) a[i * cols + i] += damp;
        float[] u = new float[cols * cols];
        String reason = ScalarCholeskyInverse.upperFactorOfInverse(a, cols, u);
        if (reason != null) return p; // both fall back to the identity
        return new PreparedHessian(cols, perm, p.dead(), u, false, null);
    }
}
