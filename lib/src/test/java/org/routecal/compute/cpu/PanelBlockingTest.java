package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link PanelBlocking} changes how a product is cut, never its result: every blocking (k-slices that do not
 * divide the input, one-panel chunks, one-group row blocks, rows cut first or panels split first) gives the default
 * blocking's serial result bit for bit, with bias, accumulation, edge rows and edge outputs.
 */
class PanelBlockingTest {
    /** The first default, the two defaults, and two odd ones (shared with {@link GroupedPanelMatmulTest}). */
    static final PanelBlocking FIRST = new PanelBlocking(256, 256 << 10, 256 << 10, 4, false);
    static final PanelBlocking[] BLOCKINGS = {
            FIRST,
            new PanelBlocking(64, 4 << 10, 1, 2, true),      // 1-2 groups per task, one panel per chunk
            new PanelBlocking(100, 1 << 20, 40 << 10, 8, false), // k-slices of 100, chunks of 3 panels at kc 100
            PanelBlocking.RESIDENT,
            PanelBlocking.STREAMED,
            new PanelBlocking(100, 8 << 10, 40 << 10, 2, PanelBlocking.Split.BALANCED), // small row blocks, balanced grid
            PanelBlocking.GROUPED,
    };
    private static final ForkJoinPool POOL = new ForkJoinPool(3);

    @AfterAll
    static void closePool() {
        POOL.shutdown();
    }

    @ParameterizedTest(name = "rows {0}, in {1}, out {2}, blocking {3}, accumulate {4}")
    @CsvSource({"1,7,5,1,false", "9,300,97,1,true", "64,256,128,1,false", "203,513,190,2,true", "203,513,190,1,false",
                "512,96,1024,2,false", "33,1000,64,2,true", "203,1100,190,3,true", "512,600,1024,4,false", "77,513,64,3,false",
                "203,513,190,5,true", "512,600,1024,5,false", "9,300,97,5,false"})
    void anyBlockingGivesTheDefaultResult(int rows, int in, int out, int blocking, boolean accumulate) {
        Random r = new Random(rows * 31L + in * 7L + out);
        float[] x = MatmulKernelsTest.gaussian(r, 3 + rows * in), w = MatmulKernelsTest.gaussian(r, out * in);
        float[] bias = MatmulKernelsTest.gaussian(r, out), start = MatmulKernelsTest.gaussian(r, rows * out + 2);
        float[] wp = PanelMatmul.pack(w, 0, out, in);
        float[] want = start.clone(), serial = start.clone(), pooled = start.clone();
        PanelMatmul.matmul(x, 3, rows, in, wp, 0, out, bias, want, 2, accumulate, null, FIRST);
        PanelMatmul.matmul(x, 3, rows, in, wp, 0, out, bias, serial, 2, accumulate, null, BLOCKINGS[blocking]);
        PanelMatmul.matmul(x, 3, rows, in, wp, 0, out, bias, pooled, 2, accumulate, POOL, BLOCKINGS[blocking]);
        assertArrayEquals(bits(want), bits(serial), "one thread");
        assertArrayEquals(bits(want), bits(pooled), "pool");
    }

    @ParameterizedTest(name = "rows {0}, in {1}, out {2}, blocking {3}")
    @CsvSource({"9,300,64,0", "203,513,192,1", "512,96,1024,2", "33,1000,64,0"})
    void bf16PanelsGiveTheFloat32PanelsResultOfTheSameValues(int rows, int in, int out, int blocking) {
        Random r = new Random(rows + in * 3L + out * 11L);
        float[] x = MatmulKernelsTest.gaussian(r, rows * in), w = MatmulKernelsTest.gaussian(r, out * in);
        short[] bits = new short[w.length];
        for (int i = 0; i < w.length; i++) {
            bits[i] = CpuBackend.bf16(w[i]);
            w[i] = Float.intBitsToFloat(bits[i] << 16);
        }
        float[] want = new float[rows * out], got = new float[rows * out];
        PanelMatmul.matmul(x, 0, rows, in, PanelMatmul.pack(w, 0, out, in), 0, out, null, want, 0, false, null, FIRST);
        PanelMatmul.matmul(x, 0, rows, in, PanelMatmul.packBf16(bits, 0, out, in), 0, out, null, got, 0, false, POOL, BLOCKINGS[blocking]);
        assertArrayEquals(bits(want), bits(got), "matmul");
        // grouped over two experts sharing the weight, rows gathered in reverse
        int[] offsets = {0, rows / 2, rows}, rowOf = new int[rows];
        for (int i = 0; i < rows; i++) rowOf[i] = rows - 1 - i;
        short[] bp = PanelMatmul.packBf16(bits, 0, out, in);
        float[] wp = PanelMatmul.pack(w, 0, out, in);
        float[] gf = new float[rows * out], gb = new float[rows * out];
        PanelMatmul.grouped(x, 0, in, rowOf, offsets, 2, new float[][]{wp, wp}, new int[2], out, gf, 0, null);
        PanelMatmul.grouped(x, 0, in, rowOf, offsets, 2, new short[][]{bp, bp}, new int[2], out, gb, 0, POOL, BLOCKINGS[blocking]);
        assertArrayEquals(bits(gf), bits(gb), "grouped");
    }

    @ParameterizedTest(name = "rows {0}, in {1}, out {2}")
    @CsvSource({"1,7,5", "203,513,190", "512,600,1024", "77,1000,64"})
    void packingByTheTasksAndTaskSharesGiveThePackingPassResult(int rows, int in, int out) {
        // x packed by the tasks that read it (row blocks packed by their first task, helpers claiming groups), with the
        // tasks claimed in per-thread shares or not, or x packed in a pass of its own first: the same bits under every
        // blocking, on one thread and on the pool
        Random r = new Random(rows * 5L + in + out * 3L);
        float[] x = MatmulKernelsTest.gaussian(r, rows * in), wp = PanelMatmul.pack(MatmulKernelsTest.gaussian(r, out * in), 0, out, in);
        float[] bias = MatmulKernelsTest.gaussian(r, out);
        // grouped, rows gathered in reverse over three experts (few rows: the panels are split too)
        int[] offsets = {0, rows / 2, rows / 2, rows}, rowOf = new int[rows];
        for (int i = 0; i < rows; i++) rowOf[i] = rows - 1 - i;
        Object[] w3 = {wp, wp, wp};
        try {
            for (PanelBlocking b : BLOCKINGS) {
                for (ForkJoinPool pool : new ForkJoinPool[]{null, POOL}) {
                    String where = PanelBlocking.format(b) + (pool == null ? ", one thread" : ", pool");
                    float[] plainWant = null, groupedWant = null;
                    for (String mode : new String[]{"separate pass", "fused", "fused, in shares"}) {
                        PanelMatmul.fusedPacking(!mode.equals("separate pass"));
                        PanelMatmul.taskShares(mode.endsWith("shares"));
                        float[] plain = new float[rows * out], grouped = new float[rows * out];
                        PanelMatmul.matmul(x, 0, rows, in, wp, 0, out, bias, plain, 0, false, pool, b);
                        PanelMatmul.grouped(x, 0, in, rowOf, offsets, 3, w3, new int[3], out, grouped, 0, pool, b);
                        if (plainWant == null) {
                            plainWant = plain;
                            groupedWant = grouped;
                        }
                        assertArrayEquals(bits(plainWant), bits(plain), mode + ", " + where);
                        assertArrayEquals(bits(groupedWant), bits(grouped), "grouped, " + mode + ", " + where);
                    }
                }
            }
        } finally {
            PanelMatmul.fusedPacking(true);
            PanelMatmul.taskShares(true);
        }
    }

    @ParameterizedTest(name = "rows {0}, in {1}, outs {2}, accumulate {3}")
    @CsvSource({"1,7,5 0 3,false", "203,513,190 64 64,true", "512,600,1024 128 128,false", "77,1000,64 33 700,true", "9,300,0 97,false"})
    void productsOfSeveralWeightsGiveEachWeightsOwnProduct(int rows, int in, String outList, boolean accumulate) {
        // q, k and v over one packed x in one task list: every output the bits of its weight's product alone, with
        // float32 and bf16 panels mixed, widths off the panel size, biases, accumulation, under every blocking, on
        // one thread and on the pool, with task shares on and off
        String[] f = outList.split(" ");
        int n = f.length;
        Random r = new Random(rows * 13L + in + n);
        float[] x = MatmulKernelsTest.gaussian(r, 5 + rows * in);
        Object[] wp = new Object[n];
        float[][] bias = new float[n][], start = new float[n][];
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = Integer.parseInt(f[i]);
            float[] w = MatmulKernelsTest.gaussian(r, out[i] * in);
            if (i % 2 == 1) { // bf16 panels for every other weight
                short[] b = new short[w.length];
                for (int j = 0; j < w.length; j++) b[j] = CpuBackend.bf16(w[j]);
                wp[i] = PanelMatmul.packBf16(b, 0, out[i], in);
            } else {
                wp[i] = PanelMatmul.pack(w, 0, out[i], in);
            }
            bias[i] = i == 1 ? null : MatmulKernelsTest.gaussian(r, out[i]);
            start[i] = MatmulKernelsTest.gaussian(r, 1 + rows * out[i]);
        }
        try {
            for (PanelBlocking b : BLOCKINGS) {
                for (ForkJoinPool pool : new ForkJoinPool[]{null, POOL}) {
                    for (boolean shares : new boolean[]{false, true}) {
                        PanelMatmul.taskShares(shares);
                        String where = PanelBlocking.format(b) + (pool == null ? ", one thread" : ", pool") + (shares ? ", shares" : "");
                        PanelMatmul.Output[] outputs = new PanelMatmul.Output[n];
                        float[][] got = new float[n][];
                        for (int i = 0; i < n; i++) outputs[i] = new PanelMatmul.Output(wp[i], 0, out[i], bias[i], got[i] = start[i].clone(), 1);
                        PanelMatmul.products(x, 5, rows, in, outputs, accumulate, pool, b);
                        for (int i = 0; i < n; i++) {
                            float[] alone = start[i].clone();
                            PanelMatmul.product(x, 5, rows, in, wp[i], 0, out[i], bias[i], alone, 1, accumulate, null, FIRST);
                            assertArrayEquals(bits(alone), bits(got[i]), "output " + i + ", " + where);
                        }
                    }
                }
            }
        } finally {
            PanelMatmul.taskShares(true);
        }
        PanelMatmul.Output tooShort = new PanelMatmul.Output(wp[0], 0, out[0], null, new float[rows * out[0] - 1 + (out[0] == 0 ? 1 : 0)], 0);
        if (out[0] > 0) assertThrows(IllegalArgumentException.class, () -> PanelMatmul.products(x, 5, rows, in, new PanelMatmul.Output[]{tooShort}, false, POOL, null));
    }

    @Test
    void largeAndSmallBlocksRunInTurnAndTheGroupedResultIsTheSame() {
        int[] sizes = {5, 1, 9, 1, 3, 7};
        assertArrayEquals(new int[]{2, 3, 5, 1, 0, 4}, PanelMatmul.largeAndSmallInTurn(sizes.length, i -> sizes[i]),
                "largest, smallest (of equal sizes the later index), next largest, next smallest, …");
        assertArrayEquals(new int[]{0}, PanelMatmul.largeAndSmallInTurn(1, i -> 4));
        // a skewed routing over 40 experts (many rows on the first, a few on the last): the same bits in either order
        Random r = new Random(17);
        int experts = 40, in = 200, out = 96;
        int[] offsets = new int[experts + 1];
        for (int e = 0; e < experts; e++) offsets[e + 1] = offsets[e] + Math.max(0, 90 - 2 * e + r.nextInt(7));
        int rows = offsets[experts];
        int[] rowOf = new int[rows];
        for (int i = 0; i < rows; i++) rowOf[i] = r.nextInt(300);
        float[] x = MatmulKernelsTest.gaussian(r, 300 * in);
        Object[] wp = new Object[experts];
        for (int e = 0; e < experts; e++) wp[e] = PanelMatmul.pack(MatmulKernelsTest.gaussian(r, out * in), 0, out, in);
        float[] inTurn = new float[rows * out], byIndex = new float[rows * out];
        PanelBlocking small = new PanelBlocking(64, 8 << 10, 64 << 10, 1, PanelBlocking.Split.BALANCED); // many row blocks
        try {
            PanelMatmul.mixedGroupedOrder(false);
            PanelMatmul.grouped(x, 0, in, rowOf, offsets, experts, wp, new int[experts], out, byIndex, 0, POOL, small);
        } finally {
            PanelMatmul.mixedGroupedOrder(true);
        }
        PanelMatmul.grouped(x, 0, in, rowOf, offsets, experts, wp, new int[experts], out, inTurn, 0, POOL, small);
        assertArrayEquals(bits(byIndex), bits(inTurn));
    }

    @Test
    void cutReachesTheWantedTasks() { // in the ISA's own tile rows (8 with 32 vector registers, 6 with 16)
        PanelBlocking rowsFirst = new PanelBlocking(256, 256 << 10, 256 << 10, 4, true);
        int maxG = rowsFirst.maxGroups(256), wanted = 16 * 4;
        int[] c = PanelBlocking.cut(256, 1, 24, 256, 16, rowsFirst, 4); // 256 row groups × 24 panels on 16 threads
        assertArrayEquals(new int[]{4, 24}, c, "rows cut to 256 / 64 = 4 groups, every task over all panels");
        c = PanelBlocking.cut(256, 1, 24, 256, 16, FIRST, 4);
        assertEquals(maxG, c[0], "panels first: row blocks as large as the blocking allows");
        assertTrue(tasks(256, 24, c) >= wanted && c[1] < 24, "panels split until there are enough tasks: " + tasks(256, 24, c));
        c = PanelBlocking.cut(2, 1, 24, 256, 16, rowsFirst, 4); // too few rows: panels split as well
        assertArrayEquals(new int[]{1, 1}, c);
        assertArrayEquals(new int[]{maxG, 24}, PanelBlocking.cut(256, 1, 24, 256, 1, rowsFirst, 4), "one thread: one chunked walk");
        assertThrows(IllegalArgumentException.class, () -> new PanelBlocking(0, 1, 1, 1, false));
    }

    @Test
    void productsRunningAtOnceKeepTheirOwnPackedRows() throws Exception {
        // packed x is reused per calling thread: products started at once from several threads, and from inside the
        // pool's own tasks (whose joins may run other tasks on the same thread), must each give their serial result
        int n = 6;
        float[][] x = new float[n][], wp = new float[n][], want = new float[n][];
        int[] rows = new int[n], in = new int[n], out = new int[n];
        Random r = new Random(5);
        for (int i = 0; i < n; i++) {
            rows[i] = 40 + 37 * i;
            in[i] = 96 + 64 * (i % 3);
            out[i] = 64 + 32 * (i % 2);
            x[i] = MatmulKernelsTest.gaussian(r, rows[i] * in[i]);
            wp[i] = PanelMatmul.pack(MatmulKernelsTest.gaussian(r, out[i] * in[i]), 0, out[i], in[i]);
            want[i] = new float[rows[i] * out[i]];
            PanelMatmul.matmul(x[i], 0, rows[i], in[i], wp[i], 0, out[i], null, want[i], 0, false, null, FIRST);
        }
        java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
        java.util.function.IntConsumer check = t -> {
            for (int rep = 0; rep < 20; rep++) {
                int i = (t + rep) % n;
                float[] y = new float[rows[i] * out[i]];
                PanelMatmul.matmul(x[i], 0, rows[i], in[i], wp[i], 0, out[i], null, y, 0, false, POOL, BLOCKINGS[(t + rep) % BLOCKINGS.length]);
                if (!java.util.Arrays.equals(bits(want[i]), bits(y))) wrong.incrementAndGet();
            }
        };
        Thread[] callers = new Thread[4];
        for (int t = 0; t < callers.length; t++) {
            int id = t;
            callers[t] = new Thread(() -> check.accept(id));
            callers[t].start();
        }
        CpuThreads.forEach(POOL, 8, t -> check.accept(t)); // products started inside the pool's tasks
        for (Thread c : callers) c.join();
        assertEquals(0, wrong.get(), "products that did not give their serial result");
    }

    @Test
    void balancedCutReadsLeastAmongEvenGrids() {
        // Qwen3-30B-A3B expert gate/up (2048 rows, 2048 → 768) in 8-row groups and 32-output panels on 16 threads, 32
        // tasks wanted, row blocks of at most 32 groups: x is 16.8 MB, W 6.3 MB. Of the even grids (1×32 … 8×4 panel
        // × row blocks) 4 panel blocks × 8 row blocks reads least: 4·16.8 + 8·6.3 = 117 MB (the panels-first default
        // cut read 590 MB).
        long xGroup = 4L * 8, wPanel = 32L * 4; // per input; the cost compares multiples of `in`, which cancels
        int[] c = PanelBlocking.balancedCut(256, 24, 32, 16, 32, xGroup, wPanel);
        assertArrayEquals(new int[]{32, 6}, c, "8 row blocks of 32 groups × 4 panel blocks of 6");
        // bf16 panels halve W's bytes: more row blocks are worth it, still even
        c = PanelBlocking.balancedCut(256, 24, 32, 16, 32, xGroup, wPanel / 2);
        assertTrue(tasks(256, 24, c) >= 32, "tasks " + tasks(256, 24, c));
        // a large W (lm_head 512 rows → 32000 outputs) is read once: one row block when it fits, panels split instead
        c = PanelBlocking.balancedCut(64, 1000, 64, 16, 32, xGroup, wPanel);
        assertEquals(64, c[0], "one row block");
        assertTrue(tasks(64, 1000, c) >= 32);
        // one row (decode): only panels can be split; 24 panels on 16 threads take two panels' time however cut, so
        // 12 tasks of 2 (x read 12 times, not 24)
        c = PanelBlocking.balancedCut(1, 24, 32, 16, 32, xGroup, wPanel);
        assertArrayEquals(new int[]{1, 2}, c);
        // through cut(): one thread keeps one walk; a grouped product keeps its largest row blocks
        PanelBlocking b = new PanelBlocking(512, 512 << 10, 128 << 10, 2, PanelBlocking.Split.BALANCED);
        int maxG = b.maxGroups(512);
        assertArrayEquals(new int[]{Math.min(256, maxG), 24}, PanelBlocking.cut(256, 1, 24, 512, 1, b, 4));
        assertEquals(Math.min(256, maxG), PanelBlocking.cut(256, 128, 48, 512, 16, b, 4)[0]);
    }

    private static long tasks(int groups, int panels, int[] cut) {
        return (long) ((groups + cut[0] - 1) / cut[0]) * ((panels + cut[1] - 1) / cut[1]);
    }

    @Test
    void smallWeightsGetTheResidentBlockingLargeOnesTheStreamedOne() {
        assertEquals(PanelBlocking.RESIDENT, PanelBlocking.blockingFor(PanelBlocking.RESIDENT_WEIGHT_BYTES));
        assertEquals(PanelBlocking.STREAMED, PanelBlocking.blockingFor(PanelBlocking.RESIDENT_WEIGHT_BYTES + 1));
    }

    @Test
    void parsesWhatItFormats() {
        PanelBlocking b = new PanelBlocking(128, 64 << 10, 512 << 10, 2, true);
        assertEquals(b, PanelBlocking.parse(PanelBlocking.format(b)));
        assertEquals(b, PanelBlocking.parse(" 128, 64,512 ,2,true"));
        PanelBlocking balanced = new PanelBlocking(512, 512 << 10, 128 << 10, 2, PanelBlocking.Split.BALANCED);
        assertEquals("512,512,128,2,balanced", PanelBlocking.format(balanced));
        assertEquals(balanced, PanelBlocking.parse("512,512,128,2,balanced"));
        for (String bad : new String[]{"", "256,256,256,4", "256,256,256,4,false,1", "a,256,256,4,false", "0,256,256,4,false", "256,256,256,4,yes"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PanelBlocking.parse(bad), bad);
            assertTrue(e.getMessage().contains("kc,rowKB,chunkKB") || e.getMessage().contains("blocking"), e.getMessage());
        }
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Float.floatToIntBits(a[i]);
        return b;
    }
}
