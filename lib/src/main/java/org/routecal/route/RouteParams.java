package org.routecal.route;

import org.routecal.RoutecalException;

/**
 * Parameters of the routing stage.
 *
 * @param target          tokens an expert should see; 0 = the expert's input width (hidden size: a full-rank gate/up
 *                        Hessian needs at least that many rows)
 * @param freqThr         share of slots called frequent (reference {@code --freq-thr}, default 0.25)
 * @param lessThr         share of slots called scarce (reference {@code --less-thr}, default 0.25)
 * @param robThr          share of slots called robust (reference {@code --rob-thr}, default 0.25)
 * @param senThr          share of slots called sensitive (reference {@code --sen-thr}, default 0.25)
 * @param ranking         global (reference) or per-layer slot ranking
 * @param balanceBoxes    token boxes of balance mode
 * @param qBoxes          token boxes of q_sensitivity mode
 * @param batchTokens     tokens per forward batch (whole samples; a longer sample runs alone)
 * @param jsonl           also write token_routing.jsonl (reference schema)
 * @param rtnSensitivity  measure the RTN W4 g128 output error of every expert on its routed inputs
 * @param overwrite       replace an existing run of the same model in the output directory
 */
public record RouteParams(long target, double freqThr, double lessThr, double robThr, double senThr, Ranking ranking,
                          Boxes balanceBoxes, Boxes qBoxes, int batchTokens, boolean jsonl, boolean rtnSensitivity,
                          boolean overwrite) {

    public RouteParams {
        for (double t : new double[]{freqThr, lessThr, robThr, senThr}) {
            if (!(t >= 0 && t <= 1)) throw new RoutecalException("slot thresholds must be in [0, 1], got " + t);
        }
        if (target < 0) throw new RoutecalException("--target must be ≥ 0 (0 = input width), got " + target);
        if (batchTokens < 1) throw new RoutecalException("--batch-tokens must be ≥ 1, got " + batchTokens);
    }

    /** The reference's settings (run_phase1.sh), global ranking, 2048-token batches, no JSONL. */
    public static RouteParams defaults() {
        return new RouteParams(0, 0.25, 0.25, 0.25, 0.25, Ranking.GLOBAL, Mode.BALANCE.defaultBoxes(),
                Mode.Q_SENSITIVITY.defaultBoxes(), 2048, false, true, false);
    }

    public Boxes boxes(Mode m) { return m == Mode.BALANCE ? balanceBoxes : qBoxes; }

    public RouteParams withJsonl(boolean v) {
        return new RouteParams(target, freqThr, lessThr, robThr, senThr, ranking, balanceBoxes, qBoxes, batchTokens, v, rtnSensitivity, overwrite);
    }

    public RouteParams withBatchTokens(int v) {
        return new RouteParams(target, freqThr, lessThr, robThr, senThr, ranking, balanceBoxes, qBoxes, v, jsonl, rtnSensitivity, overwrite);
    }

    public RouteParams withOverwrite(boolean v) {
        return new RouteParams(target, freqThr, lessThr, robThr, senThr, ranking, balanceBoxes, qBoxes, batchTokens, jsonl, rtnSensitivity, v);
    }

    public RouteParams withRtnSensitivity(boolean v) {
        return new RouteParams(target, freqThr, lessThr, robThr, senThr, ranking, balanceBoxes, qBoxes, batchTokens, jsonl, v, overwrite);
    }

    public RouteParams withTarget(long v) {
        return new RouteParams(v, freqThr, lessThr, robThr, senThr, ranking, balanceBoxes, qBoxes, batchTokens, jsonl, rtnSensitivity, overwrite);
    }
}
