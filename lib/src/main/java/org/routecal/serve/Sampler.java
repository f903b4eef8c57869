package org.routecal.serve;

import java.util.Arrays;
import java.util.Random;

/**
 * Next-token choice from logits: greedy when temperature ≤ 1e-5, else softmax(logits / T) restricted to the smallest
 * set of tokens whose probability reaches {@code topP} (nucleus), drawn with a seeded RNG. Also the log-softmax that
 * logprobs report (always of the raw logits, as OpenAI reports them, independent of T and top-p).
 */
public final class Sampler {
    private final double temperature, topP;
    private final Random rnd;

    public Sampler(double temperature, double topP, long seed) {
        if (!(temperature >= 0) || !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("temperature must be ≥ 0 and top_p in (0, 1], got " + temperature + ", " + topP);
        }
        this.temperature = temperature;
        this.topP = topP;
        this.rnd = new Random(seed);
    }

    public boolean greedy() { return temperature <= 1e-5; }

    /** Picks from row {@code row} of {@code logits} [rows, vocab]. */
    public int next(float[] logits, int row, int vocab) {
        int off = row * vocab;
        if (greedy()) return argmax(logits, off, vocab);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[off + i]);
        double[] p = new double[vocab];
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += p[i] = Math.exp((logits[off + i] - max) / temperature);
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) order[i] = i;
        final double[] pp = p;
        Arrays.sort(order, (a, b) -> Double.compare(pp[b], pp[a]));
        // nucleus: the most probable tokens until their mass reaches topP
        double kept = 0;
        int n = 0;
        while (n < vocab && kept < topP * sum) kept += p[order[n++]];
        double u = rnd.nextDouble() * kept;
        for (int i = 0; i < n; i++) {
            u -= p[order[i]];
            if (u <= 0) return order[i];
        }
        return order[n - 1];
    }

    public static int argmax(float[] logits, int off, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) if (logits[off + i] > logits[off + best]) best = i;
        return best;
    }

    /** log softmax of row {@code row}: [vocab]. */
    public static double[] logSoftmax(float[] logits, int row, int vocab) {
        int off = row * vocab;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[off + i] - max);
        double lse = max + Math.log(sum);
        double[] out = new double[vocab];
        for (int i = 0; i < vocab; i++) out[i] = logits[off + i] - lse;
        return out;
    }
}
