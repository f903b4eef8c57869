package org.routecal.compute.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;

/**
 * y = x·Wᵀ (+ bias) with W packed in panels ({@link #pack}), the BLIS way: W's outputs are cut into panels of
 * {@link #NR} (two vectors), each stored k-major ([in][NR]), so a tile reads one contiguous vector pair per k; x's
 * rows are packed per call into groups of {@link PanelTiles#ROWS}, k-major, so the tile's broadcasts read one stream.
 * The input dimension is cut into k-slices ({@link PanelBlocking#kc}): a tile's x group (kc × ROWS) stays in L1 while it
 * walks a chunk of panels whose kc × NR slices come from L2. Work is split over row blocks × panel blocks on the pool;
 * {@link PanelBlocking} says how.
 *
 * <p>Against the dot-product tiles ({@link MatmulKernels}) this needs W in a second layout, so it serves weights that
 * live long enough to pay for packing once ({@link CpuBackend}'s Linear weights); it measured 1.55× their speed on the
 * bench shapes (8×2 tile, 181 vs 117 GFLOP/s geometric mean on 2 AVX-512 cores; CpuKernelBench has the numbers).
 * Each (row, output) sums in k order, so a row's result is the same in any batch. Shapes: x [rows, in] from xOff,
 * y [rows, out] from yOff, both with contiguous rows.
 */
public final class PanelMatmul {
    /** Outputs per packed panel. */
    public static final int NR = PanelTiles.VECTORS * PanelTiles.L;
    /** Rows per register tile and per packed x group (8 on 32 vector registers, 6 on 16). */
    public static final int TILE_ROWS = PanelTiles.ROWS;
    private static final long SERIAL_MACS = 1L << 18;

    private PanelMatmul() {}

    /** Floats of W [out, in] packed: ⌈out / NR⌉ panels of in × NR. */
    public static long packedLength(int out, int in) { return (long) ceilDiv(out, NR) * NR * in; }

    /** W [out, in] (float32 from wOff) packed into panels, a copy (the last panel's missing outputs zero). */
    public static float[] pack(float[] w, int wOff, int out, int in) {
        float[] p = new float[Math.toIntExact(packedLength(out, in))];
        if (p.length == 0) return p;
        System.arraycopy(w, wOff, p, 0, out * in);
        PanelWeights.packInPlace(p, p.length / in, in, null); // zero rows pad the last panel
        return p;
    }

    /** W [out, in] as bf16 bits (from wOff) packed into bf16 panels ({@link PanelWeights} pair order), a copy. */
    public static short[] packBf16(short[] w, int wOff, int out, int in) {
        short[] p = new short[Math.toIntExact(packedLength(out, in))];
        if (p.length == 0) return p;
        System.arraycopy(w, wOff, p, 0, out * in);
        PanelWeights.packInPlace(p, p.length / in, in, null);
        return p;
    }

    /** y[yOff …] (+)= x·Wᵀ + bias, W given by its panels ({@link #pack} of [out, in]); pool null: the calling thread. */
    public static void matmul(float[] x, int xOff, int rows, int in, float[] wp, int out, float[] bias, float[] y, int yOff,
                              boolean accumulate, ForkJoinPool pool) {
        product(x, xOff, rows, in, wp, 0, out, bias, y, yOff, accumulate, pool, null);
    }

    /** As above with W's panels from wOff in wp (a view of whole panels of a larger packed tensor). */
    public static void matmul(float[] x, int xOff, int rows, int in, float[] wp, int wOff, int out, float[] bias, float[] y, int yOff,
                              boolean accumulate, ForkJoinPool pool) {
        product(x, xOff, rows, in, wp, wOff, out, bias, y, yOff, accumulate, pool, null);
    }

    /** As above, cut as {@code blocking} says (the result does not depend on it). */
    public static void matmul(float[] x, int xOff, int rows, int in, float[] wp, int wOff, int out, float[] bias, float[] y, int yOff,
                              boolean accumulate, ForkJoinPool pool, PanelBlocking blocking) {
        product(x, xOff, rows, in, wp, wOff, out, bias, y, yOff, accumulate, pool, blocking);
    }

    /**
     * As above with bf16 panels ({@link #packBf16}): half the weight bytes, widened in registers; the widened values
     * are W's exactly, so the result is bit for bit that of float32 panels of the same values.
     */
    public static void matmul(float[] x, int xOff, int rows, int in, short[] wp, int wOff, int out, float[] bias, float[] y, int yOff,
                              boolean accumulate, ForkJoinPool pool, PanelBlocking blocking) {
        product(x, xOff, rows, in, wp, wOff, out, bias, y, yOff, accumulate, pool, blocking);
    }

    /** Panels as float[] or short[] (bf16): the matmul of either; blocking null: {@link PanelBlocking#blockingFor} W's bytes. */
    static void product(float[] x, int xOff, int rows, int in, Object wp, int wOff, int out, float[] bias, float[] y, int yOff,
                        boolean accumulate, ForkJoinPool pool, PanelBlocking given) {
        products(x, xOff, rows, in, new Output[]{new Output(wp, wOff, out, bias, y, yOff)}, accumulate, pool, given);
    }

    /**
     * One weight of a product of several over the same x ({@link #products}): W [out, in] given by its panels (float[]
     * or short[] bf16) from wOff, bias [out] or null, y [rows, out] from yOff.
     */
    public record Output(Object wp, int wOff, int out, float[] bias, float[] y, int yOff) {}

    /**
     * y_i (+)= x·W_iᵀ (+ bias_i) for every output i over one x (q, k and v; MLA's q_a and kv_a): x is packed once and
     * every weight's panel blocks share one task list, so the small products (k and v: 512 outputs at Qwen3-30B-A3B
     * geometry) pay no fork, join or packing of their own. Each (row, output) is the same k-ordered sum as a product
     * of its weight alone, so the results are those of separate products, bit for bit. Blocking null:
     * {@link PanelBlocking#blockingFor} all weights' bytes.
     */
    public static void products(float[] x, int xOff, int rows, int in, Output[] outputs, boolean accumulate, ForkJoinPool pool,
                                PanelBlocking given) {
        if (rows < 0 || in < 0) throw new IllegalArgumentException("negative shape: rows " + rows + ", in " + in);
        if (xOff < 0 || (long) xOff + (long) rows * in > x.length) throw new IllegalArgumentException("x too short: offset " + xOff + " + " + rows + "×" + in + " > " + x.length);
        int n = outputs.length;
        int[] panelsOf = new int[n];
        long outs = 0, wBytes = 0;
        int panels = 0;
        for (int i = 0; i < n; i++) {
            Output o = outputs[i];
            int out = o.out();
            if (out < 0) throw new IllegalArgumentException("negative shape: rows " + rows + ", in " + in + ", out " + out);
            if (o.wOff() < 0 || o.wOff() + packedLength(out, in) > length(o.wp())) throw new IllegalArgumentException("packed W has " + length(o.wp()) + " values, [" + out + ", " + in + "] from " + o.wOff() + " needs " + packedLength(out, in));
            if (o.yOff() < 0 || (long) o.yOff() + (long) rows * out > o.y().length) throw new IllegalArgumentException("y too short: offset " + o.yOff() + " + " + rows + "×" + out + " > " + o.y().length);
            if (o.bias() != null && o.bias().length < out) throw new IllegalArgumentException("bias has " + o.bias().length + " values, need " + out);
            panelsOf[i] = ceilDiv(out, NR);
            panels = Math.addExact(panels, panelsOf[i]);
            outs += out;
            wBytes += weightBytes(o.wp(), out, in);
        }
        if (rows == 0 || outs == 0) return;
        PanelBlocking blocking = given != null ? given : PanelBlocking.blockingFor(wBytes);
        final int mr = PanelTiles.ROWS, groups = ceilDiv(rows, mr);
        int threads = pool == null ? 1 : pool.getParallelism();
        boolean serial = threads == 1 || (long) rows * outs * in < SERIAL_MACS;
        ForkJoinPool p = serial ? null : pool;
        float[] xp = packed(Math.multiplyExact(groups * mr, in));
        int kb = Math.max(1, Math.min(in, blocking.kc()));
        int firstWeight = 0;
        while (panelsOf[firstWeight] == 0) firstWeight++;
        int[] cut = PanelBlocking.cut(groups, 1, panels, kb, serial ? 1 : threads, blocking, valueBytes(outputs[firstWeight].wp()));
        int groupsPerBlock = cut[0], panelsPerBlock = cut[1], rowBlocks = ceilDiv(groups, groupsPerBlock);
        int[] blockStart = new int[n + 1]; // output i's panel blocks: [blockStart[i], blockStart[i+1])
        for (int i = 0; i < n; i++) blockStart[i + 1] = blockStart[i] + ceilDiv(panelsOf[i], panelsPerBlock);
        int panelBlocks = blockStart[n], blocks = rowBlocks * panelBlocks;
        if (!fusedPacking) CpuThreads.forEach(p, groups, g -> packRows(x, xOff, rows, in, g, xp));
        RowPacking packing = fusedPacking ? new RowPacking(rowBlocks) : null;
        boolean inShares = taskShares, rowMajor = inShares && wBytes <= ROW_MAJOR_SHARES_BYTES;
        IntConsumer task = b -> {
            // rows first, so the first round packs distinct row blocks side by side and a panel block's W is read by
            // consecutive tasks; in shares with a small W (ROW_MAJOR_SHARES_BYTES), a thread's tasks are a row block's panel blocks (its
            // x packed into and read from its own L2), while a larger W keeps rows first so that each thread's share
            // is a run of panel blocks over every row block (W once from memory: row-major streamed an lm_head's
            // 131 MB once per row block, 141 -> 114 GFLOP/s on 2 cores)
            int rb = rowMajor ? b / panelBlocks : b % rowBlocks, pb = rowMajor ? b % panelBlocks : b / rowBlocks;
            int i = expertOf(blockStart, pb), p0 = (pb - blockStart[i]) * panelsPerBlock;
            int g0 = rb * groupsPerBlock, g1 = Math.min(groups, g0 + groupsPerBlock);
            if (packing != null) packing.ensure(rb, g1 - g0, k -> packRows(x, xOff, rows, in, g0 + k, xp));
            Output o = outputs[i];
            block(xp, 0, rows, in, o.wp(), o.wOff(), o.out(), o.bias(), o.y(), o.yOff(), accumulate, g0, g1, p0,
                    Math.min(panelsOf[i], p0 + panelsPerBlock), blocking);
        };
        if (inShares) CpuThreads.forEachInShares(p, blocks, task);
        else CpuThreads.forEach(p, blocks, task);
        release(xp);
    }

    /** {@code -Droutecal.fusedPacking=false}: pack all of x in a pass of its own before the products' tasks (A/B). */
    private static volatile boolean fusedPacking = !"false".equals(System.getProperty("routecal.fusedPacking"));

    /** Sets {@link RowPacking} on or off for this JVM (benchmarks compare both in one process; the result is the same). */
    public static void fusedPacking(boolean on) { fusedPacking = on; }

    /**
     * Task shares: each thread first runs a contiguous share of the tasks, a row block's panel blocks
     * ({@link CpuThreads#forEachInShares}), so its x stays in that core's L2 instead of being read by whichever cores
     * claim the block's tasks. On the GPU machine's 16 cores (one JVM, interleaved) the small products gained 11–26 %
     * (attention q/o 1,085 -> 1,234 GFLOP/s, lm_head 1,091 -> 1,380, a 256-row expert 942 -> 1,049), the large ones
     * were unchanged; on 2 cores all equal. {@code -Droutecal.taskShares=false} turns them off (A/B). Same results.
     */
    private static volatile boolean taskShares = !"false".equals(System.getProperty("routecal.taskShares"));

    /**
     * In shares, tasks go row block by row block only while W is at most this large: each row block then reads all of
     * W. Qwen3-30B-A3B's q/k/v (42 MB) in 64 row blocks ran at 1,049 GFLOP/s that way on 16 cores, and at 1,702 rows
     * first on the same kind of host (bench/CPU-RESULTS.md, twelfth session), so this stays at the 16 MB it was
     * measured with.
     */
    static final long ROW_MAJOR_SHARES_BYTES = 16L << 20;

    /** Sets {@link #taskShares} for this JVM (benchmarks compare both in one process). */
    public static void taskShares(boolean on) { taskShares = on; }

    /**
     * x's row groups packed by the tasks that use them, not in a pass (a fork and join) of their own before them. The
     * first task of a row block packs it; a task that arrives meanwhile helps, claiming the block's groups one at a time,
     * then waits for the last. A plain product's tasks run row blocks first ({@code b % rowBlocks}), so the first
     * round's tasks pack distinct blocks side by side, each into the L2 of the core that then reads it; a grouped
     * product with few rows runs a row block's panel blocks together, whose tasks share its packing. On 16 cores the
     * separate pass and its join cost the small products (attention q/o, a 256-row expert: about 0.6 ms each) a tenth
     * of their time.
     */
    private static final class RowPacking {
        private final AtomicIntegerArray claimed, packed;
        private volatile Throwable failure;

        RowPacking(int rowBlocks) {
            claimed = new AtomicIntegerArray(rowBlocks);
            packed = new AtomicIntegerArray(rowBlocks);
        }

        /** Returns once the n groups of row block rb are packed (packing what is left to claim: packGroup(i), i < n). */
        void ensure(int rb, int n, IntConsumer packGroup) {
            if (packed.get(rb) == n) return;
            for (int i; (i = claimed.getAndIncrement(rb)) < n; ) {
                try {
                    packGroup.accept(i);
                } catch (Throwable t) {
                    failure = t; // the waiters below stop on it instead of spinning on a group never packed
                    throw t;
                } finally {
                    packed.incrementAndGet(rb);
                }
            }
            for (int spins = 0; packed.get(rb) < n; spins++) { // another task is packing the last groups: microseconds
                if (failure != null) throw new IllegalStateException("packing x failed in another task", failure);
                if (spins < 1 << 12) Thread.onSpinWait();
                else Thread.yield(); // its thread lost the core (more threads than cores)
            }
            if (failure != null) throw new IllegalStateException("packing x failed in another task", failure);
        }
    }

    /**
     * The grouped expert product without a fork per expert: y rows [offsets[e], offsets[e+1]) = those rows of x ·
     * W_eᵀ for every expert e, W_e given by its panels (wp[e] from wOff[e], [out, in]). Row r of the group is x's row
     * {@code rowOf[r]} (a gather from token order) or row r itself when rowOf is null; y's rows are in group order from
     * yOff. Every expert's row blocks share one task list (no fork and join per expert); a task packs its rows straight
     * from x and runs them over all panels. When there are too few row blocks for the pool, all rows are packed first
     * and the panels are split as well. Each (row, output) is the same k-ordered sum as {@link #matmul}'s, so the result
     * does not depend on the split.
     */
    public static void grouped(float[] x, int xOff, int in, int[] rowOf, int[] offsets, int experts, Object[] wp, int[] wOff, int out,
                               float[] y, int yOff, ForkJoinPool pool) {
        grouped(x, xOff, in, rowOf, offsets, experts, wp, wOff, out, y, yOff, pool, null);
    }

    /**
     * As above, cut as {@code given} says (the result does not depend on it; null: {@link PanelBlocking#GROUPED}, or the
     * {@code routecal.panelBlocking} override); wp: float[]s or short[]s (bf16 panels); an expert without rows may hold any placeholder.
     */
    public static void grouped(float[] x, int xOff, int in, int[] rowOf, int[] offsets, int experts, Object[] wp, int[] wOff, int out,
                               float[] y, int yOff, ForkJoinPool pool, PanelBlocking given) {
        if (in <= 0 || out <= 0) throw new IllegalArgumentException("grouped: in " + in + ", out " + out);
        final int mr = PanelTiles.ROWS, panels = ceilDiv(out, NR);
        int[] groupStart = new int[experts + 1];
        long macs = 0;
        for (int e = 0; e < experts; e++) {
            int n = offsets[e + 1] - offsets[e];
            if (n < 0) throw new IllegalArgumentException("grouped: offsets decrease at expert " + e);
            if (n > 0 && wOff[e] + packedLength(out, in) > length(wp[e])) throw new IllegalArgumentException("grouped: expert " + e + "'s panels too short");
            groupStart[e + 1] = groupStart[e] + ceilDiv(n, mr);
            macs += (long) n * in * out;
        }
        int groups = groupStart[experts];
        if (groups == 0) return;
        int routed = 0;
        while (offsets[routed + 1] == offsets[routed]) routed++; // an empty expert's array may be a placeholder
        final PanelBlocking blocking = given != null ? given : PanelBlocking.forGrouped();
        int threads = pool == null ? 1 : pool.getParallelism();
        ForkJoinPool p = threads == 1 || macs < SERIAL_MACS ? null : pool;
        int kb = Math.min(in, blocking.kc());
        int groupsPerBlock = PanelBlocking.cut(groups, experts, panels, kb, p == null ? 1 : threads, blocking, valueBytes(wp[routed]))[0];
        int[] blockStart = new int[experts + 1];
        for (int e = 0; e < experts; e++) blockStart[e + 1] = blockStart[e] + ceilDiv(groupStart[e + 1] - groupStart[e], groupsPerBlock);
        int rowBlocks = blockStart[experts];
        if (p == null || rowBlocks >= threads * blocking.tasksPerThread()) {
            // Enough row blocks to share: each task packs its rows and runs them over every panel while they are in L2
            // (packing every expert's rows first streams 134 MB through memory per Qwen3-30B-A3B layer call).
            int[] order = mixedOrder ? largeAndSmallInTurn(rowBlocks, t -> {
                int e = expertOf(blockStart, t), eg = groupStart[e + 1] - groupStart[e];
                return Math.min(groupsPerBlock, eg - (t - blockStart[e]) * groupsPerBlock);
            }) : null;
            CpuThreads.forEach(p, rowBlocks, i -> {
                int t = order == null ? i : order[i];
                int e = expertOf(blockStart, t), n = offsets[e + 1] - offsets[e], eg = groupStart[e + 1] - groupStart[e];
                int g0 = (t - blockStart[e]) * groupsPerBlock, g1 = Math.min(eg, g0 + groupsPerBlock), xpOff = -g0 * mr * in;
                float[] xp = scratch((g1 - g0) * mr * in);
                for (int g = g0; g < g1; g++) packRows(x, xOff, rowOf, offsets[e], n, in, g, xp, xpOff);
                block(xp, xpOff, n, in, wp[e], wOff[e], out, null, y, yOff + offsets[e] * out, false, g0, g1, 0, panels, blocking);
            });
            return;
        }
        // Few rows: split the panels too, so that every thread gets work; a row block's tasks share packing its rows
        float[] xp = packed(Math.multiplyExact(groups * mr, in));
        if (!fusedPacking) CpuThreads.forEach(p, groups, g -> {
            int e = expertOf(groupStart, g);
            packRows(x, xOff, rowOf, offsets[e], offsets[e + 1] - offsets[e], in, g - groupStart[e], xp, groupStart[e] * mr * in);
        });
        RowPacking packing = fusedPacking ? new RowPacking(rowBlocks) : null;
        int wanted = threads * blocking.tasksPerThread();
        int panelBlocks = Math.min(panels, Math.max(blocking.rowsFirst() ? 1 : ceilDiv(panels, blocking.chunkPanels(kb)), ceilDiv(wanted, rowBlocks)));
        int panelsPerBlock = ceilDiv(panels, panelBlocks), perRowBlock = ceilDiv(panels, panelsPerBlock);
        IntConsumer task = t -> {
            int rb = t / perRowBlock, e = expertOf(blockStart, rb), n = offsets[e + 1] - offsets[e];
            int eg = groupStart[e + 1] - groupStart[e], g0 = (rb - blockStart[e]) * groupsPerBlock, p0 = (t % perRowBlock) * panelsPerBlock;
            int g1 = Math.min(eg, g0 + groupsPerBlock), xpOff = groupStart[e] * mr * in;
            if (packing != null) packing.ensure(rb, g1 - g0, i -> packRows(x, xOff, rowOf, offsets[e], n, in, g0 + i, xp, xpOff));
            block(xp, xpOff, n, in, wp[e], wOff[e], out, null, y, yOff + offsets[e] * out, false,
                    g0, g1, p0, Math.min(panels, p0 + panelsPerBlock), blocking);
        };
        if (taskShares) CpuThreads.forEachInShares(p, rowBlocks * perRowBlock, task);
        else CpuThreads.forEach(p, rowBlocks * perRowBlock, task);
        release(xp);
    }

    /**
     * {@code -Droutecal.groupedOrder=index}: a grouped product's row blocks run in expert order (A/B); by default they
     * run largest and smallest in turn ({@link #largeAndSmallInTurn}).
     */
    private static volatile boolean mixedOrder = !"index".equals(System.getProperty("routecal.groupedOrder"));

    /** Sets {@link #mixedOrder} for this JVM (benchmarks compare both in one process; the result is the same). */
    public static void mixedGroupedOrder(boolean on) { mixedOrder = on; }

    /**
     * Task indices 0..n-1 as largest, smallest, second largest, second smallest, …, by size (ties by index). A row block
     * of a rarely routed expert streams the expert's whole W for a few rows: bound by memory, where a large block is
     * bound by the FMAs. In expert order, routing's skew can put the small blocks together, and then every core waits
     * on memory at once; in turn, each core's memory-bound tasks overlap the others' compute, and the largest start
     * first, so the last round is of middle-sized tasks.
     */
    static int[] largeAndSmallInTurn(int n, java.util.function.IntUnaryOperator size) {
        Integer[] bySize = new Integer[n];
        for (int i = 0; i < n; i++) bySize[i] = i;
        java.util.Arrays.sort(bySize, (a, b) -> size.applyAsInt(a) != size.applyAsInt(b) ? Integer.compare(size.applyAsInt(b), size.applyAsInt(a)) : Integer.compare(a, b));
        int[] order = new int[n];
        for (int i = 0, lo = 0, hi = n - 1; i < n; i++) order[i] = (i % 2 == 0) ? bySize[lo++] : bySize[hi--];
        return order;
    }

    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>(), EDGE = new ThreadLocal<>(), PACKED = new ThreadLocal<>();
    /** Packed x up to this many floats (64 MB) is kept per calling thread for its next product. */
    static final int KEPT_PACKED_FLOATS = 16 << 20;
    /** {@code -Droutecal.keepPackedX=false}: a fresh packed-x array per product (the earlier behaviour), for A/B. */
    private static final boolean KEEP_PACKED = !"false".equals(System.getProperty("routecal.keepPackedX"));

    /**
     * An array for a product's packed x, at least n floats: the calling thread's kept one when it is free and large
     * enough. A fresh array of tens of MB is zeroed (and on a new heap page-faulted) by the one allocating thread while
     * the pool waits, a serial step whose share grows with the thread count. The array is taken out while in use, so a
     * product that starts on this thread meanwhile (a pool worker may run other tasks while it joins) gets its own;
     * stale values past what a product packs are never read. Hand it back with {@link #release}.
     */
    private static float[] packed(int n) {
        float[] a = KEEP_PACKED ? PACKED.get() : null;
        if (a == null || a.length < n) return new float[n];
        PACKED.set(null);
        return a;
    }

    /** Keeps a packed-x array for this thread's next product (the larger one, up to {@link #KEPT_PACKED_FLOATS}). */
    private static void release(float[] a) {
        if (!KEEP_PACKED || a.length > KEPT_PACKED_FLOATS) return;
        float[] kept = PACKED.get();
        if (kept == null || kept.length < a.length) PACKED.set(a);
    }

    /** This thread's scratch for a partial row group's tiles, at least n floats. */
    private static float[] edgeScratch(int n) {
        float[] a = EDGE.get();
        if (a == null || a.length < n) EDGE.set(a = new float[n]);
        return a;
    }

    /** This thread's packing scratch, at least n floats (stale values beyond what a task packs are never read). */
    private static float[] scratch(int n) {
        float[] a = SCRATCH.get();
        if (a == null || a.length < n) SCRATCH.set(a = new float[n]);
        return a;
    }

    /** The expert (or output) whose range [start[e], start[e+1]) holds i (start non-decreasing; empty ranges skipped). */
    private static int expertOf(int[] start, int i) {
        int lo = 0, hi = start.length - 2;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (start[mid] <= i) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /** Row group g of x into xp: [in][ROWS], rows past the end as zeros. */
    private static void packRows(float[] x, int xOff, int rows, int in, int g, float[] xp) {
        packRows(x, xOff, null, 0, rows, in, g, xp, 0);
    }

    /**
     * Row group g of a matrix of {@code rows} rows into xp from xpOff: [in][ROWS], rows past the end zero. Row r
     * is x's row {@code rowOf[first + r]} (a gather), or {@code first + r} when rowOf is null; rows start at xOff.
     */
    private static void packRows(float[] x, int xOff, int[] rowOf, int first, int rows, int in, int g, float[] xp, int xpOff) {
        int mr = PanelTiles.ROWS, base = xpOff + g * mr * in;
        for (int i = 0; i < mr; i++) {
            int r = g * mr + i;
            if (r >= rows) { // a reused scratch holds old rows here
                for (int k = 0; k < in; k++) xp[base + k * mr + i] = 0f;
                continue;
            }
            int src = xOff + (rowOf == null ? first + r : rowOf[first + r]) * in;
            for (int k = 0; k < in; k++) xp[base + k * mr + i] = x[src + k];
        }
    }

    /**
     * Row groups [g0, g1) × panels [p0, p1): whole tiles straight into y, then the edge tiles through a scratch tile.
     * x's packed groups start at xp[xpOff]. The panels are walked in L2 chunks; within a chunk, k-slice by k-slice,
     * every row group passes over the chunk's slice (its x group in L1, the panel slices from L2).
     */
    private static void block(float[] xp, int xpOff, int rows, int in, Object wp, int wOff, int out, float[] bias, float[] y, int yOff, boolean acc,
                              int g0, int g1, int p0, int p1, PanelBlocking blocking) {
        final int mr = PanelTiles.ROWS, kc = Math.max(1, blocking.kc());
        int fullG = Math.min(g1, rows / mr), fullP = Math.min(p1, out / NR);
        int chunk = blocking.chunkPanels(Math.max(1, Math.min(in, kc)));
        // the last, partial row group of this block (its padding rows are zeros in xp) runs with the others, on each
        // chunk while it is in L2, into a scratch tile row whose valid rows are copied to y after the last k-slice
        int pg = rows / mr, partialRows = rows - pg * mr;
        boolean partial = partialRows > 0 && pg >= g0 && pg < g1 && in > 0 && fullP > p0;
        int span = Math.max(0, fullP - p0) * NR;
        float[] edge = partial ? edgeScratch(mr * span) : null;
        if (partial && acc) for (int i = 0; i < partialRows; i++) System.arraycopy(y, yOff + (pg * mr + i) * out + p0 * NR, edge, i * span, span);
        // k-slices outside, chunks inside: the block's x slice (at most rowBlockBytes) stays in L2 across the chunks,
        // so x and W each come from outside L2 once per task
        for (int k0 = 0; k0 < in; k0 += kc) {
            int kl = Math.min(kc, in - k0);
            for (int c0 = p0; c0 < fullP; c0 += chunk) {
                int c1 = Math.min(fullP, c0 + chunk);
                for (int g = g0; g < fullG; g++) {
                    int xo = xpOff + g * mr * in + k0 * mr;
                    for (int pn = c0; pn < c1; pn++) {
                        PanelTiles.tile(xp, xo, wp, wOff + pn * in * NR + k0 * NR, kl, y, yOff + g * mr * out + pn * NR, out, acc || k0 > 0);
                    }
                }
                if (partial) {
                    int xo = xpOff + pg * mr * in + k0 * mr;
                    for (int pn = c0; pn < c1; pn++) {
                        PanelTiles.tile(xp, xo, wp, wOff + pn * in * NR + k0 * NR, kl, edge, (pn - p0) * NR, span, acc || k0 > 0);
                    }
                }
            }
        }
        if (partial) for (int i = 0; i < partialRows; i++) System.arraycopy(edge, i * span, y, yOff + (pg * mr + i) * out + p0 * NR, span);
        if (in == 0 && !acc) for (int g = g0; g < fullG; g++) for (int i = 0; i < mr; i++) {
            java.util.Arrays.fill(y, yOff + (g * mr + i) * out + p0 * NR, yOff + (g * mr + i) * out + fullP * NR, 0f);
        }
        float[] scratch = null;
        for (int g = g0; g < g1; g++) {
            for (int pn = p0; pn < p1; pn++) {
                if (pn < fullP && (g < fullG || (partial && g == pg))) continue;
                if (scratch == null) scratch = new float[mr * NR];
                edgeTile(xp, xpOff, rows, in, wp, wOff, out, y, yOff, acc, g, pn, scratch, kc);
            }
        }
        if (bias != null) {
            int o0 = p0 * NR, o1 = Math.min(out, p1 * NR);
            for (int r = g0 * mr, r1 = Math.min(rows, g1 * mr); r < r1; r++) addBias(y, yOff + r * out, bias, o0, o1);
        }
    }

    /** A tile cut by the last rows or the last outputs: computed in scratch, its valid part copied to y. */
    private static void edgeTile(float[] xp, int xpOff, int rows, int in, Object wp, int wOff, int out, float[] y, int yOff, boolean acc, int g, int pn,
                                 float[] scratch, int kc) {
        final int mr = PanelTiles.ROWS;
        int r0 = g * mr, nr = Math.min(mr, rows - r0), o0 = pn * NR, no = Math.min(NR, out - o0);
        java.util.Arrays.fill(scratch, 0f);
        if (acc) for (int i = 0; i < nr; i++) System.arraycopy(y, yOff + (r0 + i) * out + o0, scratch, i * NR, no);
        for (int k0 = 0; k0 < in; k0 += kc) {
            PanelTiles.tile(xp, xpOff + g * mr * in + k0 * mr, wp, wOff + pn * in * NR + k0 * NR, Math.min(kc, in - k0), scratch, 0, NR, acc || k0 > 0);
        }
        for (int i = 0; i < nr; i++) System.arraycopy(scratch, i * NR, y, yOff + (r0 + i) * out + o0, no);
    }

    private static void addBias(float[] y, int yr, float[] bias, int o0, int o1) {
        var f = PanelTiles.F;
        int o = o0;
        for (int bound = o0 + f.loopBound(o1 - o0); o < bound; o += f.length()) {
            FloatVector.fromArray(f, y, yr + o).add(FloatVector.fromArray(f, bias, o)).intoArray(y, yr + o);
        }
        for (; o < o1; o++) y[yr + o] += bias[o];
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    /** Bytes per packed weight value: 2 for bf16 panels (short[]), 4 for float32. */
    private static int valueBytes(Object wp) { return wp instanceof short[] ? 2 : 4; }

    /** Bytes of one [out, in] weight packed in panels of wp's type (float32 or bf16). */
    private static long weightBytes(Object wp, int out, int in) { return valueBytes(wp) * packedLength(out, in); }

    /** Values in a panel array (float[] or short[]); anything else is refused. */
    private static int length(Object wp) {
        if (wp instanceof float[] f) return f.length;
        if (wp instanceof short[] s) return s.length;
        throw new IllegalArgumentException("panels must be float[] or short[] (bf16), not " + (wp == null ? "null" : wp.getClass().getSimpleName()));
    }
}
