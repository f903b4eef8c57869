package org.routecal.quant;


/**
 * Which calibration tokens an expert's AWQ statistics (x̄ and the loss sample) come from under each MoE calibration
 * mode, as token weights — the same choice the stage makes for the expert's Hessian (PIPELINE.md Stage 0):
 * <ul>
 *   <li>{@code routed}: 1 on the tokens routed to the expert;</li>
 *   <li>{@code all}: 1 on every token (llm-compressor's calibrate_all_experts);</li>
 *   <li>{@code weighted}: the routing weight on routed tokens (MoEQuant's AGQ);</li>
 *   <li>{@code hybrid}: routed + λ·(n_r/n)·all, so the all-token part carries λ times the routed token mass;</li>
 *   <li>min-token fallback: an expert with fewer than {@code minTokens} routed tokens uses {@code all}, or (when the
 *       fallback is RTN) gets no AWQ at all — identity scales, reported.</li>
 * </ul>
 *
 * @param weights  [n] per-token weights, or null when AWQ is skipped for this expert
 * @param source   routed | all | weighted | hybrid: what the statistics were built from (the report's "hessian" column)
 * @param fallback none | all | rtn
 * @param routed   tokens routed to the expert
 */
public record ExpertTokenWeights(float[] weights, String source, String fallback, int routed) {

    /**
     * @param routingWeight [n] the expert's routing weight for each calibration token, 0 where it was not routed
     */
    public static ExpertTokenWeights of(MoeMode mode, double hybridLambda, int minTokens, boolean fallbackToAll,
                                        float[] routingWeight) {
        int n = routingWeight.length, routed = 0;
        for (float w : routingWeight) if (w > 0f) routed++;
        float[] out = new float[n];
        if (routed < minTokens) {
            if (!fallbackToAll) return new ExpertTokenWeights(null, mode.id(), "rtn", routed);
            java.util.Arrays.fill(out, 1f);
            return new ExpertTokenWeights(out, "all", "all", routed);
        }
        switch (mode) {
            case ROUTED -> { for (int t = 0; t < n; t++) out[t] = routingWeight[t] > 0f ? 1f : 0f; }
            case ALL -> java.util.Arrays.fill(out, 1f);
            case WEIGHTED -> { for (int t = 0; t < n; t++) out[t] = Math.max(routingWeight[t], 0f); }
            case HYBRID -> {
                float part = (float) (hybridLambda * routed / Math.max(1, n));
                for (int t = 0; t < n; t++) out[t] = (routingWeight[t] > 0f ? 1f : 0f) + part;
            }
        }
        return new ExpertTokenWeights(out, mode.id(), "none", routed);
    }

    /** Indices of the tokens with a positive weight (the rows to run the expert on). */
    public int[] tokens() {
        if (weights == null) return new int[0];
        int c = 0;
        for (float w : weights) if (w > 0f) c++;
        int[] idx = new int[c];
        for (int t = 0, i = 0; t < weights.length; t++) if (weights[t] > 0f) idx[i++] = t;
        return idx;
    }
}
