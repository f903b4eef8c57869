package org.routecal.quant.parallel;

/**
 * Splits a sequence of batches into contiguous ranges, one per device, so the device with the most tokens has as few
 * as possible (the linear partition problem, solved exactly: binary search on the largest range, greedy check).
 * Contiguous ranges keep the calibration tokens in their one-device order when the devices' rows are concatenated in
 * device order, so routing, row indices and reductions line up with a one-device run. When there are at least as many
 * batches as devices, every device gets at least one batch; with fewer, the first devices get one each.
 */
public final class ContiguousSplit {
    private ContiguousSplit() {}

    /** @return starts [parts + 1]: device d runs batches starts[d] ≤ b &lt; starts[d + 1] */
    public static int[] split(long[] weights, int parts) {
        if (parts < 1) throw new IllegalArgumentException("parts must be ≥ 1, got " + parts);
        long lo = 0, hi = 0;
        for (long w : weights) {
            if (w < 0) throw new IllegalArgumentException("negative weight " + w);
            lo = Math.max(lo, w);
            hi += w;
        }
        while (lo < hi) { // smallest largest-range that fits in `parts` ranges
            long mid = lo + (hi - lo) / 2;
            if (rangesNeeded(weights, mid) <= parts) hi = mid;
            else lo = mid + 1;
        }
        return build(weights, parts, lo);
    }

    private static int rangesNeeded(long[] w, long cap) {
        int ranges = 1;
        long sum = 0;
        for (long x : w) {
            if (sum + x > cap) {
                ranges++;
                sum = 0;
            }
            sum += x;
        }
        return ranges;
    }

    /**
     * Greedy fill up to cap (feasible, since cap is), except that a range stops when the batches left are exactly one per
     * later range; those then get one batch each, each at most cap.
     */
    private static int[] build(long[] w, int parts, long cap) {
        int[] starts = new int[parts + 1];
        if (w.length < parts) { // a batch per device from the first; the rest get none (they still own solves)
            for (int p = 0; p <= parts; p++) starts[p] = Math.min(p, w.length);
            return starts;
        }
        int i = 0;
        for (int p = 0; p < parts - 1; p++) {
            starts[p] = i;
            int laterParts = parts - p - 1;
            long sum = 0;
            while (i < w.length && w.length - i > laterParts && sum + w[i] <= cap) sum += w[i++];
        }
        starts[parts - 1] = i;
        starts[parts] = w.length;
        return starts;
    }
}
