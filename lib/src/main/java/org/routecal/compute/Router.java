package org.routecal.compute;


/**
 * Applies a {@link RouterRule} to one token's router logits (pure math, STYLE H2/H7). Ties are broken toward the lower
 * expert index, as torch.topk does on CPU for equal values; callers that care count near-ties themselves.
 */
public final class Router {
    private Router() {}

    /**
     * @param logits    [experts] router logits of one token (read from {@code off})
     * @param bias      [experts] e_score_correction_bias, or null
     * @param ids       out: [topK] chosen experts by descending score
     * @param weights   out: [topK] their routing weights
     */
    public static void route(RouterRule rule, float[] logits, int off, int experts, float[] bias,
                             int[] ids, int idsOff, float[] weights, int wOff) {
        float[] scores = new float[experts];
        if (rule.scoring() == RouterRule.Scoring.SOFTMAX) {
            float max = Float.NEGATIVE_INFINITY;
            for (int e = 0; e < experts; e++) max = Math.max(max, logits[off + e]);
            float sum = 0f;
            for (int e = 0; e < experts; e++) { scores[e] = (float) Math.exp(logits[off + e] - max); sum += scores[e]; }
            for (int e = 0; e < experts; e++) scores[e] /= sum;
        } else {
            for (int e = 0; e < experts; e++) scores[e] = (float) (1.0 / (1.0 + Math.exp(-logits[off + e])));
        }
        // The choice may use bias-corrected scores; the weights always come from the plain scores.
        float[] choice = scores;
        if (rule.scoreCorrectionBias() && bias != null) {
            choice = new float[experts];
            for (int e = 0; e < experts; e++) choice[e] = scores[e] + bias[e];
        }
        boolean[] allowed = allowedByGroups(rule, choice, experts);
        int k = rule.topK();
        boolean[] taken = new boolean[experts];
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < experts; e++) {
                if (taken[e] || !allowed[e]) continue;
                if (best < 0 || choice[e] > choice[best]) best = e;
            }
            taken[best] = true;
            ids[idsOff + j] = best;
            weights[wOff + j] = scores[best];
        }
        if (rule.normalizeTopK()) {
            float sum = 0f;
            for (int j = 0; j < k; j++) sum += weights[wOff + j];
            // DeepSeek adds 1e-20 to avoid 0/0; harmless for softmax families
            for (int j = 0; j < k; j++) weights[wOff + j] /= rule.scoring() == RouterRule.Scoring.SIGMOID ? sum + 1e-20f : sum;
        }
        if (rule.routedScalingFactor() != 1f) for (int j = 0; j < k; j++) weights[wOff + j] *= rule.routedScalingFactor();
    }

    /** Grouped top-k (DeepSeek-V3): keep the topKGroups groups with the largest sum of their two best scores. */
    private static boolean[] allowedByGroups(RouterRule rule, float[] choice, int experts) {
        boolean[] allowed = new boolean[experts];
        if (rule.groupCount() <= 1) { java.util.Arrays.fill(allowed, true); return allowed; }
        int groups = rule.groupCount(), size = experts / groups;
        float[] groupScore = new float[groups];
        for (int g = 0; g < groups; g++) {
            float a = Float.NEGATIVE_INFINITY, b = Float.NEGATIVE_INFINITY;
            for (int e = g * size; e < (g + 1) * size; e++) {
                if (choice[e] > a) { b = a; a = choice[e]; } else if (choice[e] > b) b = choice[e];
            }
            groupScore[g] = a + b;
        }
        boolean[] keep = new boolean[groups];
        for (int j = 0; j < rule.topKGroups(); j++) {
            int best = -1;
            for (int g = 0; g < groups; g++) if (!keep[g] && (best < 0 || groupScore[g] > groupScore[best])) best = g;
            keep[best] = true;
        }
        for (int e = 0; e < experts; e++) allowed[e] = keep[e / size];
        return allowed;
    }
}
