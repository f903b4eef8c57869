package org.routecal.compute.cpu;

import java.util.concurrent.ForkJoinPool;

/**
 * Storage of a CPU Linear weight [rows, cols] in the {@link PanelMatmul} layout, packed in place (no second copy):
 * rows are cut into panels of {@link PanelMatmul#NR} (rows a multiple of NR), each stored k-major, so row r, column k
 * sits at (r / NR)·NR·cols + k·NR + r % NR. A panel occupies the same span as its rows did row-major, so a view of
 * whole panels (one expert of a stack) starts at the row-major offset of its first row. The backend reads and writes
 * such a tensor through this class only; ops that expect row-major floats refuse it ({@link CpuBackend}).
 *
 * <p>BF16 weights (a short[] of bf16 bits) take the same layout except within a panel's k-row, where the two output
 * vectors are interleaved in pairs: short 2j holds output j, short 2j+1 output j + NR/2, so the tile widens both
 * vectors from one load ({@link PanelTiles}).
 */
public final class PanelWeights {
    static final int NR = PanelMatmul.NR;
    private static final int HALF = NR / 2;
    /** float[] (F32) or short[] (BF16 bits, pair order). */
    final Object data;
    final int cols;

    private PanelWeights(Object data, int cols) {
        this.data = data;
        this.cols = cols;
    }

    /** Where output j (0 ≤ j < NR) of a panel's k-row sits: itself for float32, its pair slot for bf16. */
    private int slot(int j) { return data instanceof short[] ? pairSlot(j) : j; }

    private static int pairSlot(int j) { return j < HALF ? 2 * j : 2 * (j - HALF) + 1; }

    /** Whether a [rows, cols] matrix can take the layout. */
    static boolean fits(long rows) { return rows > 0 && rows % NR == 0; }

    /** Packs the row-major a[0, rows·cols) in place, panels in parallel on the pool (null: the calling thread). */
    public static PanelWeights packInPlace(float[] a, long rows, int cols, ForkJoinPool pool) {
        if (!fits(rows) || a.length != rows * cols) throw new IllegalArgumentException("[" + rows + ", " + cols + "] in " + a.length + " floats: not whole panels of " + NR);
        int panels = Math.toIntExact(rows / NR), span = NR * cols;
        CpuThreads.forEach((long) rows * cols < (1 << 18) ? null : pool, panels, p -> {
            int base = p * span;
            packPanel(java.util.Arrays.copyOfRange(a, base, base + span), 0, a, base, cols);
        });
        return new PanelWeights(a, cols);
    }

    /**
     * One panel: NR row-major rows from src[s0 …] into dst[d0 …) k-major, in blocks of 16 columns so the NR source
     * rows' lines and the block's destination lines stay in L1 (0.8 ns per float on one AVX-512 core, 3× the plain loop).
     */
    private static void packPanel(float[] src, int s0, float[] dst, int d0, int cols) {
        for (int k0 = 0; k0 < cols; k0 += 16) {
            int kn = Math.min(16, cols - k0);
            for (int j = 0; j < NR; j++) {
                int s = s0 + j * cols + k0, d = d0 + k0 * NR + j;
                for (int k = 0; k < kn; k++) dst[d + k * NR] = src[s + k];
            }
        }
    }

    /** The inverse of {@link #packPanel}: one panel from src[s0 …] back to NR row-major rows at dst[d0 …). */
    private static void unpackPanel(float[] src, int s0, float[] dst, int d0, int cols) {
        for (int k0 = 0; k0 < cols; k0 += 16) {
            int kn = Math.min(16, cols - k0);
            for (int j = 0; j < NR; j++) {
                int s = s0 + k0 * NR + j, d = d0 + j * cols + k0;
                for (int k = 0; k < kn; k++) dst[d + k] = src[s + k * NR];
            }
        }
    }

    /** Packs the row-major bf16 bits a[0, rows·cols) in place, in pair order, panels in parallel (pool null: this thread). */
    public static PanelWeights packInPlace(short[] a, long rows, int cols, ForkJoinPool pool) {
        if (!fits(rows) || a.length != rows * cols) throw new IllegalArgumentException("[" + rows + ", " + cols + "] in " + a.length + " bf16 values: not whole panels of " + NR);
        int panels = Math.toIntExact(rows / NR), span = NR * cols;
        CpuThreads.forEach((long) rows * cols < (1 << 18) ? null : pool, panels, p -> {
            int base = p * span;
            short[] src = java.util.Arrays.copyOfRange(a, base, base + span);
            for (int k0 = 0; k0 < cols; k0 += 16) {
                int kn = Math.min(16, cols - k0);
                for (int j = 0; j < NR; j++) {
                    int sj = j * cols + k0, d = base + k0 * NR + pairSlot(j);
                    for (int k = 0; k < kn; k++) a[d + k * NR] = src[sj + k];
                }
            }
        });
        return new PanelWeights(a, cols);
    }

    /** Offset of element (r, k). */
    private long at(long r, int k) { return (r / NR) * NR * cols + (long) k * NR + slot((int) (r % NR)); }

    /** Rows [r0, r0 + n) row-major into dst from dstOff (whole panels a block at a time, other rows one by one). */
    void read(long r0, long n, float[] dst, int dstOff) {
        if (data instanceof short[] bits) {
            for (long r = r0; r < r0 + n; r++) {
                long base = at(r, 0);
                int d = dstOff + Math.toIntExact((r - r0) * cols);
                for (int k = 0; k < cols; k++) dst[d + k] = Float.intBitsToFloat(bits[Math.toIntExact(base + (long) k * NR)] << 16);
            }
            return;
        }
        float[] data = (float[]) this.data;
        long r = r0;
        int d = dstOff;
        for (; r < r0 + n; r++, d += cols) {
            if (r % NR == 0 && r + NR <= r0 + n) {
                unpackPanel(data, Math.toIntExact(r * cols), dst, d, cols); // a panel spans the rows' own floats
                r += NR - 1;
                d += (NR - 1) * cols;
                continue;
            }
            long base = at(r, 0);
            for (int k = 0; k < cols; k++) dst[d + k] = data[Math.toIntExact(base + (long) k * NR)];
        }
    }

    /** Row-major values (whole rows) written to rows from r0 (whole panels a block at a time, other rows one by one). */
    void write(long r0, float[] src, int srcOff, int count) {
        long rows = count / cols, r = r0;
        if (data instanceof short[] bits) { // rounded to bf16 as every BF16 write is
            for (; r < r0 + rows; r++) {
                long base = at(r, 0);
                int s = srcOff + Math.toIntExact((r - r0) * cols);
                for (int k = 0; k < cols; k++) bits[Math.toIntExact(base + (long) k * NR)] = CpuBackend.bf16(src[s + k]);
            }
            return;
        }
        float[] data = (float[]) this.data;
        int s = srcOff;
        for (; r < r0 + rows; r++, s += cols) {
            if (r % NR == 0 && r + NR <= r0 + rows) {
                packPanel(src, s, data, Math.toIntExact(r * cols), cols);
                r += NR - 1;
                s += (NR - 1) * cols;
                continue;
            }
            long base = at(r, 0);
            for (int k = 0; k < cols; k++) data[Math.toIntExact(base + (long) k * NR)] = src[s + k];
        }
    }
}
