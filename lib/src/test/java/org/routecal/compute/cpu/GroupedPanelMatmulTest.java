package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link PanelMatmul#grouped}, all experts' tiles in one task list, against one {@link PanelMatmul#matmul} per expert
 * on its gathered rows (bit for bit: the same k-ordered sums whatever the split) and against {@link ReferenceOps}
 * (NMSE). Row counts hit the tile's edges, experts are empty, one expert takes almost every row, rows come gathered
 * from token order or straight, weights sit inside wider arrays, on one thread and on a pool, under the default
 * blocking and odd ones ({@link PanelBlockingTest#BLOCKINGS}).
 */
class GroupedPanelMatmulTest {
    private static final int NR = PanelMatmul.NR;
    private static final ForkJoinPool POOL = new ForkJoinPool(3);

    @AfterAll
    static void closePool() {
        POOL.shutdown();
    }

    @ParameterizedTest(name = "{0} experts, {1} tokens, in {2}, out {3} panels, gather {4}, pool {5}, blocking {6}")
    @CsvSource({"1,5,33,1,false,false,0", "4,37,300,2,true,true,0", "8,200,96,3,true,false,0", "8,200,96,3,true,true,0",
                "32,512,257,4,true,true,0", "3,700,520,2,false,true,0", "128,300,64,1,true,true,0",
                "4,37,300,2,true,true,1", "8,200,96,3,true,false,2", "32,512,257,4,true,true,1", "32,512,257,4,true,true,2",
                "3,700,520,5,false,true,1", "3,700,520,5,false,true,2", "128,300,64,1,true,true,2",
                "32,512,257,4,true,true,5", "8,200,96,3,true,true,6", "3,700,520,5,false,true,6", "128,300,64,1,true,true,6"})
    void matchesOneMatmulPerExpertBitForBit(int experts, int tokens, int in, int panels, boolean gather, boolean pooled, int blocking) {
        Random r = new Random(experts * 1000L + tokens * 7L + in);
        int out = panels * NR, xOff = 5, yOff = 3;
        float[] x = MatmulKernelsTest.gaussian(r, xOff + tokens * in);
        // sorted rows per expert: skewed (expert 0 takes about half), some experts empty
        int[] counts = new int[experts];
        for (int t = 0; t < tokens; t++) counts[r.nextBoolean() ? 0 : r.nextInt(experts)]++;
        if (experts > 2) counts[experts - 2] = 0;
        int[] offsets = new int[experts + 1];
        for (int e = 0; e < experts; e++) offsets[e + 1] = offsets[e] + counts[e];
        int slots = offsets[experts];
        int[] rowOf = new int[slots];
        for (int i = 0; i < slots; i++) rowOf[i] = gather ? r.nextInt(tokens) : i;
        float[][] packed = new float[experts][];
        int[] wOff = new int[experts];
        float[][] plain = new float[experts][];
        for (int e = 0; e < experts; e++) {
            plain[e] = MatmulKernelsTest.gaussian(r, out * in);
            float[] p = PanelMatmul.pack(plain[e], 0, out, in);
            wOff[e] = (e % 3) * NR * in; // panels inside a wider array, as views of a stack are
            packed[e] = new float[wOff[e] + p.length + NR * in];
            System.arraycopy(p, 0, packed[e], wOff[e], p.length);
        }
        float[] got = new float[yOff + slots * out + 7];
        java.util.Arrays.fill(got, Float.NaN); // every output row must be written
        for (int i = 0; i < yOff; i++) got[i] = 1f;
        PanelMatmul.grouped(x, xOff, in, gather ? rowOf : null, offsets, experts, packed, wOff, out, got, yOff, pooled ? POOL : null,
                PanelBlockingTest.BLOCKINGS[blocking]);

        float[] want = new float[slots * out], ref = new float[slots * out];
        for (int e = 0; e < experts; e++) {
            int n = counts[e];
            if (n == 0) continue;
            float[] xe = new float[n * in];
            for (int i = 0; i < n; i++) System.arraycopy(x, xOff + rowOf[offsets[e] + i] * in, xe, i * in, in);
            PanelMatmul.matmul(xe, 0, n, in, packed[e], wOff[e], out, null, want, offsets[e] * out, false, null);
            ReferenceOps.matmulTransposed(xe, 0, n, in, plain[e], 0, out, null, ref, offsets[e] * out, false);
        }
        for (int i = 0; i < yOff; i++) assertEquals(1f, got[i], "before yOff untouched");
        for (int i = 0; i < slots * out; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[yOff + i]), "slot " + i / out + ", output " + i % out);
        }
        for (int i = yOff + slots * out; i < got.length; i++) assertEquals(Float.NaN, got[i], "after the last row untouched");
        double err = 0, norm = 0;
        for (int i = 0; i < ref.length; i++) {
            err += (ref[i] - got[yOff + i]) * (double) (ref[i] - got[yOff + i]);
            norm += ref[i] * (double) ref[i];
        }
        assertEquals(0, err / Math.max(norm, 1e-30), MatmulKernelsTest.NMSE);
    }

    @org.junit.jupiter.api.Test
    void refusesShortPanelsAndDecreasingOffsets() {
        int in = 16, out = NR;
        float[] x = new float[4 * in], y = new float[4 * out];
        float[][] w = {new float[out * in], new float[out * in - 1]};
        assertThrows(IllegalArgumentException.class, () -> PanelMatmul.grouped(x, 0, in, null, new int[]{0, 2, 4}, 2, w, new int[2], out, y, 0, null));
        float[][] ok = {new float[out * in], new float[out * in]};
        assertThrows(IllegalArgumentException.class, () -> PanelMatmul.grouped(x, 0, in, null, new int[]{0, 3, 2}, 2, ok, new int[2], out, y, 0, null));
    }
}
