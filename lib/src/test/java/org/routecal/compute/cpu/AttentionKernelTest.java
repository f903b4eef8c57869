package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.routecal.compute.AttentionLayout;

/**
 * The blocked attention kernel against the per-key loop over {@link ReferenceOps} (the scalar backend's attention) on
 * every layout feature: packed sequences of different lengths (block edges, vector edges), queries after cached keys,
 * GQA, a sliding window, chunks, sinks, a value width unlike the key width, and operands that are column ranges of
 * wider rows with offsets. Columns of the output outside the heads' range stay untouched.
 */
class AttentionKernelTest {
    private static float[] gaussian(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * scale;
        return a;
    }

    /** qLens/kvLens per sequence; returns the largest |blocked − reference| over max |reference|. */
    private static double compare(int heads, int kvHeads, int hd, int vd, int window, int chunk, boolean sinks,
                                  int[] qLens, int[] kvLens, long seed) {
        Random r = new Random(seed);
        int[] qStart = new int[qLens.length + 1], kvStart = new int[qLens.length + 1];
        for (int s = 0; s < qLens.length; s++) {
            qStart[s + 1] = qStart[s] + qLens[s];
            kvStart[s + 1] = kvStart[s] + kvLens[s];
        }
        int tq = qStart[qLens.length], tk = kvStart[qLens.length];
        // rows wider than the heads (a fused projection's columns) and arrays starting past an offset
        int qWidth = heads * hd + 3, kWidth = kvHeads * hd + 5, vWidth = kvHeads * vd + 2, oWidth = heads * vd + 7;
        int qo = 11, ko = 4, vo = 9, oo = 6;
        float[] q = gaussian(r, qo + tq * qWidth, 0.5f), k = gaussian(r, ko + tk * kWidth, 0.5f), v = gaussian(r, vo + tk * vWidth, 1f);
        float[] sink = sinks ? gaussian(r, heads, 1f) : null;
        float[] blockedOut = new float[oo + tq * oWidth], referenceOut = new float[blockedOut.length];
        Arrays.fill(blockedOut, 42f);
        Arrays.fill(referenceOut, 42f);
        AttentionLayout l = new AttentionLayout(heads, kvHeads, hd, vd, (float) (1 / Math.sqrt(hd)), window, chunk, null,
                null, qStart, null, kvStart);
        AttentionKernel.Operands blocked = new AttentionKernel.Operands(q, qo, qWidth, k, ko, kWidth, v, vo, vWidth, blockedOut, oo, oWidth, sink);
        AttentionKernel.Operands reference = new AttentionKernel.Operands(q, qo, qWidth, k, ko, kWidth, v, vo, vWidth, referenceOut, oo, oWidth, sink);
        AttentionKernel.run(new VectorOps(2), true, l, blocked);
        AttentionKernel.run(new ReferenceOps(), false, l, reference);
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < blockedOut.length; i++) {
            int col = (i - oo) % oWidth;
            if (i < oo || col >= heads * vd) {
                assertEquals(42f, blockedOut[i], "output column " + col + " outside the heads was written");
                continue;
            }
            assertTrue(Float.isFinite(blockedOut[i]), "non-finite output at " + i);
            maxDiff = Math.max(maxDiff, Math.abs(blockedOut[i] - referenceOut[i]));
            maxAbs = Math.max(maxAbs, Math.abs(referenceOut[i]));
        }
        return maxDiff / maxAbs;
    }

    @Test
    void causalPrefillOfPackedSequences() {
        // lengths around the query block (64) and the vector length: every edge of P's rows and blocks
        double d = compare(8, 2, 64, 64, 0, 0, false, new int[]{8, 65, 130, 17}, new int[]{8, 65, 130, 17}, 1);
        assertTrue(d < 1e-5, "relative difference " + d);
    }

    @Test
    void queriesAfterCachedKeys() {
        double d = compare(4, 4, 32, 32, 0, 0, false, new int[]{9, 70}, new int[]{40, 100}, 2);
        assertTrue(d < 1e-5, "relative difference " + d);
    }

    @Test
    void slidingWindowAndSinks() {
        // GPT-OSS style: a window shorter than a block and per-head sink logits
        double d = compare(8, 2, 64, 64, 20, 0, true, new int[]{100, 33}, new int[]{100, 45}, 3);
        assertTrue(d < 1e-5, "relative difference " + d);
    }

    @Test
    void chunksAndValueWidthUnlikeKeyWidth() {
        // Llama 4's chunks; an MLA-like value head narrower than the key head, neither a multiple of the vector length
        double d = compare(4, 1, 24, 20, 0, 16, false, new int[]{77}, new int[]{77}, 4);
        assertTrue(d < 1e-5, "relative difference " + d);
        d = compare(6, 3, 40, 72, 0, 0, true, new int[]{64, 12}, new int[]{64, 30}, 5);
        assertTrue(d < 1e-5, "relative difference " + d);
    }
}
