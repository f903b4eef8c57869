package org.routecal.eval;

/**
 * Per-position metrics of one sequence, pure math on logits [positions, vocab] row-major. Position t predicts
 * token t+1, so a sequence of n tokens has n−1 scored positions.
 */
final class SequenceMetrics {
    private SequenceMetrics() {}

    /** log-softmax of row t of {@code logits}, in double. */
    static double[] logSoftmax(float[] logits, int t, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) max = Math.max(max, logits[t * vocab + v]);
        double sum = 0;
        for (int v = 0; v < vocab; v++) sum += Math.exp(logits[t * vocab + v] - max);
        double lse = max + Math.log(sum);
        double[] out = new double[vocab];
        for (int v = 0; v < vocab; v++) out[v] = logits[t * vocab + v] - lse;
        return out;
    }

    /** Σ over scored positions of −log p(next token). */
    static double nllSum(float[] logits, int[] ids, int vocab) {
        double s = 0;
        for (int t = 0; t + 1 < ids.length; t++) s -= logSoftmax(logits, t, vocab)[ids[t + 1]];
        return s;
    }

    /** Σ over scored positions of KL(p‖q) = Σ_v p_v (log p_v − log q_v). */
    static double klSum(float[] p, float[] q, int positions, int vocab) {
        double s = 0;
        for (int t = 0; t < positions; t++) {
            double[] lp = logSoftmax(p, t, vocab), lq = logSoftmax(q, t, vocab);
            for (int v = 0; v < vocab; v++) s += Math.exp(lp[v]) * (lp[v] - lq[v]);
        }
        return s;
    }

    /** Number of scored positions whose argmax agrees. */
    static int top1Agree(float[] p, float[] q, int positions, int vocab) {
        int n = 0;
        for (int t = 0; t < positions; t++) if (argmax(p, t, vocab) == argmax(q, t, vocab)) n++;
        return n;
    }

    static int argmax(float[] a, int t, int vocab) {
        int best = 0;
        for (int v = 1; v < vocab; v++) if (a[t * vocab + v] > a[t * vocab + best]) best = v;
        return best;
    }

    /** Tokens whose top-k expert set (order ignored) is the same in both routings ([tokens, k] ids). */
    static int sameTopK(int[] a, int[] b, int tokens, int k) {
        int n = 0;
        for (int t = 0; t < tokens; t++) {
            int[] sa = java.util.Arrays.copyOfRange(a, t * k, t * k + k), sb = java.util.Arrays.copyOfRange(b, t * k, t * k + k);
            java.util.Arrays.sort(sa);
            java.util.Arrays.sort(sb);
            if (java.util.Arrays.equals(sa, sb)) n++;
        }
        return n;
    }
}
