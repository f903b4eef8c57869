package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The chunked XᵀX accumulation against the textbook triple loop (plain, row-selected and routing-weighted). */
class HessianCollectorTest {
    @Test
    void chunkedAccumulationEqualsNaiveSums() {
        int n = 7, rows = 150; // more rows than one chunk, and a partial last chunk
        Random r = new Random(3);
        float[] x = new float[rows * n];
        float[] w = new float[rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < rows; i++) w[i] = i % 3 == 0 ? 0f : r.nextFloat();
        for (int variant = 0; variant < 3; variant++) {
            float[] ww = variant == 0 ? null : w;
            boolean weighted = variant == 2;
            double[] h = HessianCollector.finish(HessianCollector.accumulate(null, n, x, rows, ww, weighted), n);
            for (int a = 0; a < n; a++) {
                for (int b = 0; b < n; b++) {
                    double s = 0;
                    for (int t = 0; t < rows; t++) {
                        double c = ww == null ? 1 : (ww[t] > 0 ? (weighted ? ww[t] : 1) : 0);
                        s += c * x[t * n + a] * x[t * n + b];
                    }
                    assertEquals(s, h[a * n + b], 1e-9 * Math.max(1, Math.abs(s)), "variant " + variant + " (" + a + "," + b + ")");
                }
            }
        }
    }
}
