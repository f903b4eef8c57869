package org.routecal.quant.awq;

import java.util.List;

/**
 * Outcome of one AWQ grid search.
 *
 * @param scales      [cols] the chosen per-channel scales (double, as llm-compressor keeps them), or all ones when
 *                    the search was skipped
 * @param bestRatio   the exponent α of the chosen point
 * @param bestDuo     whether the chosen point used duo scaling
 * @param initialLoss loss at the first grid point (the identity with the default grid)
 * @param bestLoss    loss at the chosen point
 * @param curve       every grid point with its loss, in search order
 * @param skipped     why the search did not run (no activations), or null
 */
public record AwqResult(double[] scales, double bestRatio, boolean bestDuo, double initialLoss, double bestLoss,
                        List<Point> curve, String skipped) {
    /** A grid point and its loss. */
    public record Point(double ratio, boolean duo, double loss) {}

    /** bestLoss / initialLoss (1 when nothing improved), llm-compressor's "error reduction rate". */
    public double reduction() {
        return initialLoss > 0 ? bestLoss / initialLoss : 1.0;
    }
}
