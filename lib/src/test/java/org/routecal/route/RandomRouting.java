package org.routecal.route;

import java.util.Random;

/** Seeded random routing batches with skewed expert popularity and softmax-like descending weights (test data). */
final class RandomRouting {
    private RandomRouting() {}

    static RoutingBatch batch(RoutingGeometry g, int tokens, int samples, long seed) {
        Random rnd = new Random(seed);
        int layers = g.layers(), k = g.topK(), e = g.experts();
        double[][] pop = new double[layers][e];
        for (int l = 0; l < layers; l++) for (int x = 0; x < e; x++) pop[l][x] = Math.exp(rnd.nextGaussian() * (0.3 + 0.02 * l));
        int[] sample = new int[tokens], pos = new int[tokens], tok = new int[tokens], cs = new int[tokens], ce = new int[tokens];
        short[] ids = new short[tokens * layers * k];
        float[] w = new float[tokens * layers * k];
        int perSample = Math.max(1, tokens / samples);
        for (int t = 0; t < tokens; t++) {
            sample[t] = Math.min(samples - 1, t / perSample);
            pos[t] = t - sample[t] * perSample;
            tok[t] = rnd.nextInt(151_000);
            cs[t] = pos[t] * 4;
            ce[t] = cs[t] + 1 + rnd.nextInt(6);
            for (int l = 0; l < layers; l++) {
                double[] score = new double[e];
                for (int x = 0; x < e; x++) score[x] = Math.log(pop[l][x]) + rnd.nextGaussian();
                double sum = 0;
                int base = (t * layers + l) * k;
                boolean[] used = new boolean[e];
                double[] chosen = new double[k];
                for (int j = 0; j < k; j++) {
                    int best = -1;
                    for (int x = 0; x < e; x++) if (!used[x] && (best < 0 || score[x] > score[best])) best = x;
                    used[best] = true;
                    ids[base + j] = (short) best;
                    chosen[j] = Math.exp(score[best]);
                    sum += chosen[j];
                }
                for (int j = 0; j < k; j++) w[base + j] = (float) (chosen[j] / sum);
            }
        }
        return new RoutingBatch(g, tokens, sample, pos, tok, cs, ce, ids, w);
    }
}
