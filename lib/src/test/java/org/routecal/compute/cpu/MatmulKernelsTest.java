package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every matmul variant (both register-tile sets, float32 and bf16 weights, one thread and a pool, with and without
 * bias, overwrite and accumulate, row views at offsets) against {@link ReferenceOps} (STYLE H4). Shapes hit every edge:
 * rows and outputs that are not multiples of the tile, inputs shorter than a vector and with scalar tails, and sizes
 * large enough to be split into several blocks. Declared tolerance: NMSE ≤ 1e-10 for both weight types — the weights
 * are widened exactly, so only the order of float32 additions differs from the reference.
 */
class MatmulKernelsTest {
    static final double NMSE = 1e-10;
    private static final ForkJoinPool POOL = new ForkJoinPool(3);

    @AfterAll
    static void closePool() {
        POOL.shutdown();
    }

    static Stream<Arguments> cases() {
        int[][] shapes = {{1, 7, 5}, {5, 33, 9}, {17, 64, 130}, {4, 96, 8}, {64, 96, 200}, {3, 2048, 6}, {37, 300, 77}, {130, 129, 260}};
        List<Arguments> out = new ArrayList<>();
        for (MatmulKernels.Tiles t : MatmulKernels.Tiles.values())
            for (int[] s : shapes)
                for (boolean pooled : new boolean[]{false, true}) out.add(Arguments.of(t, s[0], s[1], s[2], pooled));
        return out.stream();
    }

    static double nmse(float[] ref, float[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += Math.pow(ref[i] - got[i], 2);
            den += (double) ref[i] * ref[i];
        }
        return num / Math.max(den, 1e-30);
    }

    static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** bf16 bits of gaussians, with a few zeros, negatives and tiny values (the widening must keep every bit). */
    static short[] bf16(Random r, int n) {
        short[] a = new short[n];
        for (int i = 0; i < n; i++) {
            float v = i % 17 == 0 ? 0f : i % 23 == 0 ? 1e-30f : (float) r.nextGaussian();
            a[i] = (short) (Float.floatToIntBits(v) >>> 16);
        }
        return a;
    }

    @ParameterizedTest(name = "{0} {1}x{2}x{3} pool={4}")
    @MethodSource("cases")
    void matchesReference(MatmulKernels.Tiles tiles, int rows, int in, int out, boolean pooled) {
        Random r = new Random(rows * 31L + in * 7L + out);
        ForkJoinPool pool = pooled ? POOL : null;
        int xOff = 3, wOff = 5, yOff = 2; // row views inside larger buffers
        float[] x = gaussian(r, xOff + rows * in), w = gaussian(r, wOff + out * in), bias = gaussian(r, out);
        short[] wb = bf16(r, wOff + out * in);
        for (boolean withBias : new boolean[]{false, true}) {
            for (boolean accumulate : new boolean[]{false, true}) {
                float[] init = gaussian(r, yOff + rows * out + 4);
                float[] b = withBias ? bias : null;
                float[] want = init.clone(), got = init.clone();
                ReferenceOps.matmulTransposed(x, xOff, rows, in, w, wOff, out, b, want, yOff, accumulate);
                MatmulKernels.f32(tiles, x, xOff, rows, in, w, wOff, out, b, got, yOff, accumulate, pool);
                assertClose(want, got, "f32 bias=" + withBias + " acc=" + accumulate);
                want = init.clone();
                got = init.clone();
                ReferenceOps.matmulTransposed(x, xOff, rows, in, wb, wOff, out, b, want, yOff, accumulate);
                MatmulKernels.bf16(tiles, x, xOff, rows, in, wb, wOff, out, b, got, yOff, accumulate, pool);
                assertClose(want, got, "bf16 bias=" + withBias + " acc=" + accumulate);
            }
        }
    }

    @ParameterizedTest(name = "panels {1}x{2}x{3} pool={4}")
    @MethodSource("cases")
    void panelMatmulMatchesReference(MatmulKernels.Tiles ignored, int rows, int in, int out, boolean pooled) {
        Random r = new Random(rows * 37L + in * 11L + out);
        ForkJoinPool pool = pooled ? POOL : null;
        int xOff = 3, wOff = 5, yOff = 2;
        float[] x = gaussian(r, xOff + rows * in), w = gaussian(r, wOff + out * in), bias = gaussian(r, out);
        float[] packed = PanelMatmul.pack(w, wOff, out, in);
        for (boolean withBias : new boolean[]{false, true}) {
            for (boolean accumulate : new boolean[]{false, true}) {
                float[] init = gaussian(r, yOff + rows * out + 4);
                float[] b = withBias ? bias : null;
                float[] want = init.clone(), got = init.clone();
                ReferenceOps.matmulTransposed(x, xOff, rows, in, w, wOff, out, b, want, yOff, accumulate);
                PanelMatmul.matmul(x, xOff, rows, in, packed, out, b, got, yOff, accumulate, pool);
                assertClose(want, got, "panels bias=" + withBias + " acc=" + accumulate);
            }
        }
    }

    /** A row's result does not depend on the batch around it (quantize splits batches over devices and must agree). */
    @Test
    void panelMatmulRowsAreIndependentOfTheirBatch() {
        Random r = new Random(4);
        int rows = 45, in = 700, out = 100;
        float[] x = gaussian(r, rows * in), packed = PanelMatmul.pack(gaussian(r, out * in), 0, out, in);
        float[] all = new float[rows * out];
        PanelMatmul.matmul(x, 0, rows, in, packed, out, null, all, 0, false, POOL);
        for (int[] range : new int[][]{{0, 1}, {3, 4}, {5, 14}, {17, 45}}) {
            int n = range[1] - range[0];
            float[] part = new float[n * out];
            PanelMatmul.matmul(x, range[0] * in, n, in, packed, out, null, part, 0, false, null);
            for (int i = 0; i < n * out; i++) {
                assertEquals(Float.floatToIntBits(all[range[0] * out + i]), Float.floatToIntBits(part[i]), "row " + (range[0] + i / out) + " alone");
            }
        }
    }

    /**
     * Every panel register tile (the JVM uses one: 8 rows on 32 registers, 6 on 16), on one tile of packed operands;
     * each bf16 tile gives its float32 twin's result bit for bit.
     */
    @Test
    void everyPanelTileMatchesReference() {
        Random r = new Random(9);
        int in = 300, nr = PanelMatmul.NR;
        for (int mr : new int[]{8, 6}) {
            float[] x = gaussian(r, mr * in), w = gaussian(r, nr * in), xp = new float[mr * in], want = new float[mr * nr];
            short[] wb = new short[w.length];
            for (int i = 0; i < w.length; i++) {
                wb[i] = CpuBackend.bf16(w[i]);
                w[i] = Float.intBitsToFloat(wb[i] << 16);
            }
            for (int i = 0; i < mr; i++) for (int k = 0; k < in; k++) xp[k * mr + i] = x[i * in + k];
            ReferenceOps.matmulTransposed(x, 0, mr, in, w, 0, nr, null, want, 0, false);
            float[] got = new float[mr * nr], gotBf16 = new float[mr * nr], wp = PanelMatmul.pack(w, 0, nr, in);
            short[] wpb = PanelMatmul.packBf16(wb, 0, nr, in);
            switch (mr) {
                case 8 -> { PanelTiles.tile8x2(xp, 0, wp, 0, in, got, 0, nr, false); PanelTiles.tile8x2Bf16(xp, 0, wpb, 0, in, gotBf16, 0, nr, false); }
                default -> { PanelTiles.tile6x2(xp, 0, wp, 0, in, got, 0, nr, false); PanelTiles.tile6x2Bf16(xp, 0, wpb, 0, in, gotBf16, 0, nr, false); }
            }
            assertTrue(nmse(want, got) <= NMSE, mr + "x2 tile: nmse " + nmse(want, got));
            for (int i = 0; i < got.length; i++) assertEquals(Float.floatToIntBits(got[i]), Float.floatToIntBits(gotBf16[i]), mr + "x2 bf16 tile, value " + i);
        }
    }

    private static void assertClose(float[] want, float[] got, String what) {
        double e = nmse(want, got);
        assertTrue(e <= NMSE, what + ": nmse " + e);
        // values outside the y view are untouched
        assertEquals(want[0], got[0], what + ": y[0] outside the view");
        assertEquals(want[want.length - 1], got[got.length - 1], what + ": last value outside the view");
    }

    @Test
    void dotAndAxpyMatchReference() {
        Random r = new Random(9);
        ReferenceOps ref = new ReferenceOps();
        for (int n : new int[]{1, 15, 16, 63, 64, 65, 1000}) {
            float[] a = gaussian(r, n + 3), b = gaussian(r, n + 5);
            float d1 = ref.dot(a, 3, b, 5, n), d2 = MatmulKernels.dot(a, 3, b, 5, n);
            assertEquals(d1, d2, 1e-4 * Math.max(1, Math.abs(d1)), "dot n=" + n);
            float[] y1 = gaussian(r, n + 2), y2 = y1.clone();
            ref.axpy(0.3f, a, 1, y1, 2, n);
            MatmulKernels.axpy(0.3f, a, 1, y2, 2, n);
            assertTrue(nmse(y1, y2) < 1e-12, "axpy n=" + n);
        }
    }

    /**
     * Outer-product tiles (attention's products): y = x·B against the reference on Bᵀ, at shapes with every edge, with
     * the operands as rows of wider matrices (strides past the widths, as attention reads Q, Kᵀ and V in place).
     */
    @Test
    void broadcastTilesMatchReference() {
        Random r = new Random(11);
        for (int[] shape : new int[][]{{1, 1, 1}, {4, 64, 64}, {7, 64, 70}, {64, 64, 512}, {5, 17, 3}, {64, 300, 64}, {9, 24, 130}}) {
            int rows = shape[0], in = shape[1], out = shape[2];
            for (int pad : new int[]{0, 5}) {
                int ldx = in + pad, ldb = out + 2 * pad, ldy = out + 3 * pad;
                float[] x = gaussian(r, rows * ldx + 2), b = gaussian(r, in * ldb + 3);
                float[] xd = new float[rows * in], bt = new float[out * in];
                for (int i = 0; i < rows; i++) System.arraycopy(x, 2 + i * ldx, xd, i * in, in);
                for (int k = 0; k < in; k++) for (int o = 0; o < out; o++) bt[o * in + k] = b[3 + k * ldb + o];
                float[] want = new float[rows * out], got = new float[rows * ldy + 1];
                java.util.Arrays.fill(got, 42f);
                ReferenceOps.matmulTransposed(xd, 0, rows, in, bt, 0, out, null, want, 0, false);
                BroadcastTiles.matmul(x, 2, ldx, rows, in, b, 3, ldb, out, got, 0, ldy);
                float[] gotDense = new float[rows * out];
                for (int i = 0; i < rows; i++) {
                    System.arraycopy(got, i * ldy, gotDense, i * out, out);
                    for (int o = out; o < ldy; o++) assertEquals(42f, got[i * ldy + o], "row " + i + " padding written");
                }
                String what = "rows " + rows + ", in " + in + ", out " + out + ", pad " + pad;
                assertTrue(nmse(want, gotDense) < 1e-12, what + ": nmse " + nmse(want, gotDense));
                assertEquals(42f, got[rows * ldy], what + ": nothing written past y");
            }
        }
    }

    @Test
    void shortBuffersAreRejectedWithTheShape() {
        float[] x = new float[10], w = new float[20], y = new float[4];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MatmulKernels.matmulTransposed(x, 0, 2, 5, w, 0, 4, null, y, 0, false));
        assertTrue(e.getMessage().contains("y too short"), e.getMessage());
    }
}
