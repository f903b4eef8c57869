package org.routecal.quant.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The batches' split over devices: contiguous, complete, optimal in the largest share, no idle device when avoidable. */
class ContiguousSplitTest {
    /** The best largest range over every way to cut {@code w} into {@code parts} contiguous ranges (exhaustive). */
    static long optimum(long[] w, int parts) {
        return best(w, 0, parts);
    }

    private static long best(long[] w, int from, int parts) {
        if (parts == 1) {
            long s = 0;
            for (int i = from; i < w.length; i++) s += w[i];
            return s;
        }
        long bestMax = Long.MAX_VALUE, s = 0;
        for (int end = from; end <= w.length; end++) { // first range [from, end)
            if (end > from) s += w[end - 1];
            bestMax = Math.min(bestMax, Math.max(s, best(w, end, parts - 1)));
        }
        return bestMax;
    }

    static long largest(long[] w, int[] starts) {
        long m = 0;
        for (int p = 0; p + 1 < starts.length; p++) {
            long s = 0;
            for (int i = starts[p]; i < starts[p + 1]; i++) s += w[i];
            m = Math.max(m, s);
        }
        return m;
    }

    @Test
    void optimalContiguousAndNoIdleDeviceWhenThereAreEnoughBatches() {
        Random r = new Random(11);
        for (int trial = 0; trial < 400; trial++) {
            int n = r.nextInt(9), parts = 1 + r.nextInt(4);
            long[] w = new long[n];
            for (int i = 0; i < n; i++) w[i] = 1 + r.nextInt(4096);
            int[] s = ContiguousSplit.split(w, parts);
            assertEquals(parts + 1, s.length);
            assertEquals(0, s[0]);
            assertEquals(n, s[parts]);
            for (int p = 0; p < parts; p++) {
                assertTrue(s[p] <= s[p + 1], "ranges in order");
                if (n >= parts) assertTrue(s[p] < s[p + 1], "device " + p + " idle although there are " + n + " batches for " + parts);
            }
            assertEquals(optimum(w, parts), largest(w, s), "largest share for " + java.util.Arrays.toString(w) + " on " + parts);
        }
    }

    @Test
    void theStageSplitOfThreeBatches() {
        assertArrayEquals(new int[]{0, 1, 2, 3}, ContiguousSplit.split(new long[]{4096, 4096, 2048}, 3));
        assertArrayEquals(new int[]{0, 1, 3}, ContiguousSplit.split(new long[]{4096, 4096, 2048}, 2));
        assertArrayEquals(new int[]{0, 1, 1, 1}, ContiguousSplit.split(new long[]{384}, 3), "one batch: the other devices only solve");
    }
}
