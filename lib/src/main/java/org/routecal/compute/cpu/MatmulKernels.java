package org.routecal.compute.cpu;

import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * y = x·Wᵀ (+ bias) on the CPU: x [rows, in] float32, W [out, in] (HF Linear layout) in float32 or bf16 (raw bits in a
 * {@code short[]}, widened in registers), y [rows, out]. Every array is addressed from an explicit offset with
 * contiguous rows (strides in, in, out), so row views of larger buffers need no copy.
 *
 * <p>Blocking: the (rows, out) plane is cut into blocks of {@code mc} rows × {@code nc} outputs; a block is one task
 * (work is split over both dimensions, so a few rows still give every thread work, and so do few outputs). Inside a
 * block the register tile walks the rows for a fixed group of outputs, so the tile's weight rows (C × in) stay in L1/L2
 * while the block's x rows ({@code mc} × in, sized to fit half of L2) are re-read from L2 for every output group. The
 * whole input dimension is reduced in registers (dot-product tiles, see {@link F32Tiles}), so no partial sums go
 * through memory; rows of up to 8 KB (2048 float32 inputs) per operand stream from L2 at well under the FMA rate.
 *
 * <p>Threads: the calling code's pool ({@link CpuThreads#sharedPool()}: one worker per physical core by default);
 * small products run on the calling thread.
 */
public final class MatmulKernels {
    /** Register tiles (rows × outputs) per weight type, chosen from the ISA's vector register count. */
    enum Tiles {
        /** 32 vector registers (AVX-512, NEON/SVE): f32 16 accumulators + 4 x + 1 w, bf16 16 + 8 + 3. */
        WIDE(4, 4, 4, 4),
        /** 16 vector registers (AVX2 / AVX at 256 bits, SSE): f32 8 + 2 + 1, bf16 8 + 4 + 3. */
        NARROW(2, 4, 2, 4);

        final int f32Rows, f32Cols, bf16Rows, bf16Cols;

        Tiles(int f32Rows, int f32Cols, int bf16Rows, int bf16Cols) {
            this.f32Rows = f32Rows;
            this.f32Cols = f32Cols;
            this.bf16Rows = bf16Rows;
            this.bf16Cols = bf16Cols;
        }
    }

    /**
     * The tiles of this JVM: WIDE when the vectors are 512-bit (x86 has 32 zmm registers only with AVX-512) or the CPU
     * is aarch64 (32 NEON/SVE registers at any width); NARROW otherwise. {@code -Droutecal.matmulTiles=wide|narrow}
     * overrides (for measurements).
     */
    static final Tiles TILES = pickTiles();

    /** Bytes of x rows per block: half a typical 1–2 MB L2, leaving room for the weight tile and y. */
    private static final int X_BLOCK_BYTES = 256 << 10;
    /** Below this many multiply-adds a product runs on the calling thread (a fork costs ~10 µs). */
    private static final long SERIAL_MACS = 1L << 18;
    /** Blocks per thread, so work stealing can even out blocks of unequal cost (edges, a busy core). */
    private static final int BLOCKS_PER_THREAD = 4;

    private MatmulKernels() {}

    private static Tiles pickTiles() {
        String forced = System.getProperty("routecal.matmulTiles");
        if (forced != null) return Tiles.valueOf(forced.toUpperCase(java.util.Locale.ROOT));
        boolean arm = System.getProperty("os.arch", "").contains("aarch64");
        return arm || VectorOps.SPECIES.vectorBitSize() >= 512 ? Tiles.WIDE : Tiles.NARROW;
    }

    /** Human-readable description of the kernels in use, for logs and bench records. */
    public static String describe() {
        return VectorOps.SPECIES.vectorBitSize() + "-bit vectors, " + TILES.name().toLowerCase(java.util.Locale.ROOT)
                + " tiles (f32 " + TILES.f32Rows + "x" + TILES.f32Cols + ", bf16 " + TILES.bf16Rows + "x" + TILES.bf16Cols + ")";
    }

    /**
     * y[yOff …] (+)= x·Wᵀ + bias with float32 weights, on the shared pool.
     *
     * @param x          [rows, in] from xOff
     * @param w          [out, in] from wOff
     * @param bias       [out] or null
     * @param y          [rows, out] from yOff
     * @param accumulate add to y instead of overwriting it
     */
    public static void matmulTransposed(float[] x, int xOff, int rows, int in, float[] w, int wOff, int out, float[] bias,
                                        float[] y, int yOff, boolean accumulate) {
        matmulTransposed(x, xOff, rows, in, w, wOff, out, bias, y, yOff, accumulate, CpuThreads.sharedPool());
    }

    /** As above on the given pool (null: the calling thread only). */
    public static void matmulTransposed(float[] x, int xOff, int rows, int in, float[] w, int wOff, int out, float[] bias,
                                        float[] y, int yOff, boolean accumulate, ForkJoinPool pool) {
        f32(TILES, x, xOff, rows, in, w, wOff, out, bias, y, yOff, accumulate, pool);
    }

    /** y[yOff …] (+)= x·Wᵀ + bias with bf16 weights ({@code wBf16}: [out, in] raw bf16 bits from wOff), on the shared pool. */
    public static void matmulTransposed(float[] x, int xOff, int rows, int in, short[] wBf16, int wOff, int out, float[] bias,
                                        float[] y, int yOff, boolean accumulate) {
        matmulTransposed(x, xOff, rows, in, wBf16, wOff, out, bias, y, yOff, accumulate, CpuThreads.sharedPool());
    }

    /** As above on the given pool (null: the calling thread only). */
    public static void matmulTransposed(float[] x, int xOff, int rows, int in, short[] wBf16, int wOff, int out, float[] bias,
                                        float[] y, int yOff, boolean accumulate, ForkJoinPool pool) {
        bf16(TILES, x, xOff, rows, in, wBf16, wOff, out, bias, y, yOff, accumulate, pool);
    }

    /** Σ a[aOff+i]·b[bOff+i], i in [0, n): four accumulator chains, so the FMA latency is covered. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        VectorSpecies<Float> f = VectorOps.SPECIES;
        int step = f.length(), i = 0;
        FloatVector s0 = FloatVector.zero(f), s1 = s0, s2 = s0, s3 = s0;
        for (int bound4 = n - n % (4 * step); i < bound4; i += 4 * step) {
            s0 = FloatVector.fromArray(f, a, aOff + i).fma(FloatVector.fromArray(f, b, bOff + i), s0);
            s1 = FloatVector.fromArray(f, a, aOff + i + step).fma(FloatVector.fromArray(f, b, bOff + i + step), s1);
            s2 = FloatVector.fromArray(f, a, aOff + i + 2 * step).fma(FloatVector.fromArray(f, b, bOff + i + 2 * step), s2);
            s3 = FloatVector.fromArray(f, a, aOff + i + 3 * step).fma(FloatVector.fromArray(f, b, bOff + i + 3 * step), s3);
        }
        for (int bound = f.loopBound(n); i < bound; i += step) {
            s0 = FloatVector.fromArray(f, a, aOff + i).fma(FloatVector.fromArray(f, b, bOff + i), s0);
        }
        float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** y[yOff+i] += alpha·x[xOff+i], i in [0, n) (fused multiply-add per lane). */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        VectorSpecies<Float> f = VectorOps.SPECIES;
        int step = f.length(), bound = f.loopBound(n), i = 0;
        FloatVector va = FloatVector.broadcast(f, alpha);
        for (; i < bound; i += step) {
            FloatVector.fromArray(f, x, xOff + i).fma(va, FloatVector.fromArray(f, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    static void f32(Tiles t, float[] x, int xOff, int rows, int in, float[] w, int wOff, int out, float[] bias,
                    float[] y, int yOff, boolean accumulate, ForkJoinPool pool) {
        check(x.length, xOff, rows, in, w.length, wOff, out, bias, y.length, yOff);
        Grid g = Grid.of(rows, out, in, t.f32Rows, t.f32Cols, pool);
        CpuThreads.forEach(g.serial ? null : pool, g.blocks(), b -> {
            int r0 = g.rowStart(b), r1 = Math.min(rows, r0 + g.mc), o0 = g.outStart(b), o1 = Math.min(out, o0 + g.nc);
            f32Block(t, x, xOff, in, w, wOff, out, bias, y, yOff, accumulate, r0, r1, o0, o1);
        });
    }

    static void bf16(Tiles t, float[] x, int xOff, int rows, int in, short[] w, int wOff, int out, float[] bias,
                     float[] y, int yOff, boolean accumulate, ForkJoinPool pool) {
        check(x.length, xOff, rows, in, w.length, wOff, out, bias, y.length, yOff);
        // a fresh buffer per call: a thread-local one could be overwritten by a nested call that this thread runs
        // while it waits inside a fork-join join (work stealing)
        float[] packed = new float[rows * in];
        Bf16Tiles.pack(x, xOff, rows, in, packed);
        Grid g = Grid.of(rows, out, in, t.bf16Rows, t.bf16Cols, pool);
        CpuThreads.forEach(g.serial ? null : pool, g.blocks(), b -> {
            int r0 = g.rowStart(b), r1 = Math.min(rows, r0 + g.mc), o0 = g.outStart(b), o1 = Math.min(out, o0 + g.nc);
            bf16Block(t, packed, in, w, wOff, out, bias, y, yOff, accumulate, r0, r1, o0, o1);
        });
    }

    /** Rows [r0, r1) × outputs [o0, o1): full tiles, then 1×4 strips for leftover rows, then single dots for leftover outputs. */
    private static void f32Block(Tiles t, float[] x, int xOff, int in, float[] w, int wOff, int out, float[] bias, float[] y,
                                 int yOff, boolean acc, int r0, int r1, int o0, int o1) {
        int tr = t.f32Rows, tc = t.f32Cols;
        int o = o0;
        for (; o + tc <= o1; o += tc) {
            int r = r0;
            for (; r + tr <= r1; r += tr) {
                int xi = xOff + r * in, wi = wOff + o * in, yi = yOff + r * out + o;
                if (t == Tiles.WIDE) F32Tiles.tile4x4(x, xi, in, w, wi, y, yi, out, bias, o, acc);
                else F32Tiles.tile2x4(x, xi, in, w, wi, y, yi, out, bias, o, acc);
            }
            for (; r < r1; r++) f32Row(x, xOff + r * in, in, w, wOff, out, bias, y, yOff + r * out, acc, o, o + tc);
        }
        for (int r = r0; r < r1; r++) f32Row(x, xOff + r * in, in, w, wOff, out, bias, y, yOff + r * out, acc, o, o1);
    }

    /** One row against outputs [o0, o1). */
    private static void f32Row(float[] x, int xr, int in, float[] w, int wOff, int out, float[] bias, float[] y, int yr,
                               boolean acc, int o0, int o1) {
        int o = o0;
        for (; o + 4 <= o1; o += 4) F32Tiles.tile1x4(x, xr, in, w, wOff + o * in, y, yr + o, out, bias, o, acc);
        for (; o < o1; o++) F32Tiles.dot1(x, xr, in, w, wOff + o * in, y, yr + o, bias, o, acc);
    }

    private static void bf16Block(Tiles t, float[] xp, int in, short[] w, int wOff, int out, float[] bias, float[] y,
                                  int yOff, boolean acc, int r0, int r1, int o0, int o1) {
        int tr = t.bf16Rows, tc = t.bf16Cols;
        int o = o0;
        for (; o + tc <= o1; o += tc) {
            int r = r0;
            for (; r + tr <= r1; r += tr) {
                int xi = r * in, wi = wOff + o * in, yi = yOff + r * out + o;
                if (t == Tiles.WIDE) Bf16Tiles.tile4x4(xp, xi, in, w, wi, y, yi, out, bias, o, acc);
                else Bf16Tiles.tile2x4(xp, xi, in, w, wi, y, yi, out, bias, o, acc);
            }
            for (; r < r1; r++) bf16Row(xp, r * in, in, w, wOff, out, bias, y, yOff + r * out, acc, o, o + tc);
        }
        for (int r = r0; r < r1; r++) bf16Row(xp, r * in, in, w, wOff, out, bias, y, yOff + r * out, acc, o, o1);
    }

    private static void bf16Row(float[] xp, int xr, int in, short[] w, int wOff, int out, float[] bias, float[] y, int yr,
                                boolean acc, int o0, int o1) {
        int o = o0;
        for (; o + 4 <= o1; o += 4) Bf16Tiles.tile1x4(xp, xr, in, w, wOff + o * in, y, yr + o, out, bias, o, acc);
        for (; o < o1; o++) Bf16Tiles.dot1(xp, xr, in, w, wOff + o * in, y, yr + o, bias, o, acc);
    }

    /** The task grid: blocks of mc rows × nc outputs, row blocks innermost in the numbering. */
    private record Grid(int mc, int nc, int rowBlocks, int outBlocks, boolean serial) {
        static Grid of(int rows, int out, int in, int tileRows, int tileCols, ForkJoinPool pool) {
            long macs = (long) rows * out * in;
            int threads = pool == null ? 1 : pool.getParallelism();
            boolean serial = threads == 1 || macs < SERIAL_MACS;
            int mc = Math.max(tileRows, X_BLOCK_BYTES / (4 * Math.max(in, 1)) / tileRows * tileRows);
            mc = Math.min(mc, roundUp(Math.max(rows, 1), tileRows));
            int rowBlocks = ceilDiv(rows, mc);
            int wanted = serial ? 1 : threads * BLOCKS_PER_THREAD;
            int outBlocks = Math.max(1, Math.min(ceilDiv(out, tileCols), ceilDiv(wanted, rowBlocks)));
            int nc = roundUp(ceilDiv(out, outBlocks), tileCols);
            return new Grid(mc, nc, rowBlocks, ceilDiv(out, nc), serial);
        }

        int blocks() { return rowBlocks * outBlocks; }
        int rowStart(int b) { return (b % rowBlocks) * mc; }
        int outStart(int b) { return (b / rowBlocks) * nc; }
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    private static int roundUp(int a, int m) { return ceilDiv(a, m) * m; }

    private static void check(int xLen, int xOff, int rows, int in, int wLen, int wOff, int out, float[] bias, int yLen, int yOff) {
        if (rows < 0 || in < 0 || out < 0) throw new IllegalArgumentException("negative shape: rows " + rows + ", in " + in + ", out " + out);
        if (xOff < 0 || (long) xOff + (long) rows * in > xLen) throw new IllegalArgumentException("x too short: offset " + xOff + " + " + rows + "×" + in + " > " + xLen);
        if (wOff < 0 || (long) wOff + (long) out * in > wLen) throw new IllegalArgumentException("w too short: offset " + wOff + " + " + out + "×" + in + " > " + wLen);
        if (yOff < 0 || (long) yOff + (long) rows * out > yLen) throw new IllegalArgumentException("y too short: offset " + yOff + " + " + rows + "×" + out + " > " + yLen);
        if (bias != null && bias.length < out) throw new IllegalArgumentException("bias has " + bias.length + " values, need " + out);
    }
}
