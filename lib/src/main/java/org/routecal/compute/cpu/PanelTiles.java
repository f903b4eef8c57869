package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles of y = x·Wᵀ on packed operands ({@link PanelMatmul}), in outer-product form: for each k, one row of
 * a weight panel (its outputs, as vectors) is loaded once and multiplied by each tile row's x value, broadcast. No
 * horizontal reductions and one weight load per {@code ROWS} FMAs, so the kernel runs near the FMA rate where the
 * dot-product tiles of {@link F32Tiles} are bound by loads and reductions. Each (row, output) sums its products in
 * k order, one FMA at a time, so a row's result does not depend on which tile or batch it lands in. Sizes fit the
 * register file: 8 rows × 2 vectors on 32-register ISAs (16 accumulators + 2 weight vectors + 1 broadcast), 6 × 2 on
 * 16-register AVX2 (12 + 2 + 1); 8×2 measured fastest of 4×4, 6×4, 8×3, 12×2, 6×3, 14×2 on the AVX-512 build box.
 * Written out by {@code tests/cpu/gen_tiles.py panel 8x2 6x2} and {@code panel-bf16 8x2 6x2}: the bf16 variants read
 * a panel of bf16 weights (half the bytes) and widen each k-row in registers, one shift and one mask for both vectors
 * (two shifts in the 16-register 6 × 2 tile, whose mask constant is one live register too many: 71-74 against 46-54
 * GFLOP/s on one AVX2 thread);
 * the widened values are exactly the float32 ones, so the sums, and the results, are bit-identical.
 *
 * <p>Operands: xp [k][ROWS] (a packed row group), wp [k][2·L] (a packed weight panel), c [ROWS rows, stride ldc];
 * {@code load}: start from c's values instead of zero (the next block of k, or accumulate).
 */
final class PanelTiles {
    static final VectorSpecies<Float> F = VectorOps.SPECIES;
    /** A bf16 panel's k-row (2·L shorts) in one load. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    private static final int HIGH_HALF = 0xFFFF0000;
    static final int L = F.length();
    /** Output vectors per tile (the panel is this many vectors wide). */
    static final int VECTORS = 2;
    /**
     * Tile rows: 8 with 32 vector registers, 6 with 16. A 12 × 2 tile (24 accumulators, a third less weight read from
     * L2 per flop) ran 1–37 % slower on the 2-core AMD box and 3–11 % slower on the GPU machine's 16 Intel cores
     * (bench/CPU-RESULTS.md, tenth session), so it was removed.
     */
    static final int ROWS = MatmulKernels.TILES == MatmulKernels.Tiles.WIDE ? 8 : 6;

    private PanelTiles() {}

    /** The tile for this ISA on a float32 panel (float[]) or a bf16 one (short[], {@link PanelWeights} pair order). */
    static void tile(float[] xp, int x0, Object wp, int wOff, int kc, float[] c, int c0, int ldc, boolean load) {
        if (wp instanceof float[] w) {
            if (ROWS == 8) tile8x2(xp, x0, w, wOff, kc, c, c0, ldc, load);
            else tile6x2(xp, x0, w, wOff, kc, c, c0, ldc, load);
        } else {
            short[] w = (short[]) wp;
            if (ROWS == 8) tile8x2Bf16(xp, x0, w, wOff, kc, c, c0, ldc, load);
            else tile6x2Bf16(xp, x0, w, wOff, kc, c, c0, ldc, load);
        }
    }

    /** 8 rows × 2 output vectors: 16 accumulators + 2 weight vectors + 1 broadcast live. */
    static void tile8x2(float[] xp, int x0, float[] wp, int wOff, int kc, float[] c, int c0, int ldc, boolean load) {
        FloatVector a00 = load ? FloatVector.fromArray(F, c, c0 + 0 * ldc + 0 * L) : FloatVector.zero(F), a01 = load ? FloatVector.fromArray(F, c, c0 + 0 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a10 = load ? FloatVector.fromArray(F, c, c0 + 1 * ldc + 0 * L) : FloatVector.zero(F), a11 = load ? FloatVector.fromArray(F, c, c0 + 1 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a20 = load ? FloatVector.fromArray(F, c, c0 + 2 * ldc + 0 * L) : FloatVector.zero(F), a21 = load ? FloatVector.fromArray(F, c, c0 + 2 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a30 = load ? FloatVector.fromArray(F, c, c0 + 3 * ldc + 0 * L) : FloatVector.zero(F), a31 = load ? FloatVector.fromArray(F, c, c0 + 3 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a40 = load ? FloatVector.fromArray(F, c, c0 + 4 * ldc + 0 * L) : FloatVector.zero(F), a41 = load ? FloatVector.fromArray(F, c, c0 + 4 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a50 = load ? FloatVector.fromArray(F, c, c0 + 5 * ldc + 0 * L) : FloatVector.zero(F), a51 = load ? FloatVector.fromArray(F, c, c0 + 5 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a60 = load ? FloatVector.fromArray(F, c, c0 + 6 * ldc + 0 * L) : FloatVector.zero(F), a61 = load ? FloatVector.fromArray(F, c, c0 + 6 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a70 = load ? FloatVector.fromArray(F, c, c0 + 7 * ldc + 0 * L) : FloatVector.zero(F), a71 = load ? FloatVector.fromArray(F, c, c0 + 7 * ldc + 1 * L) : FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            final int wk = wOff + k * 2 * L, xk = x0 + k * 8;
            FloatVector w0 = FloatVector.fromArray(F, wp, wk + 0 * L); FloatVector w1 = FloatVector.fromArray(F, wp, wk + 1 * L);
            FloatVector b0 = FloatVector.broadcast(F, xp[xk + 0]); a00 = w0.fma(b0, a00); a01 = w1.fma(b0, a01);
            FloatVector b1 = FloatVector.broadcast(F, xp[xk + 1]); a10 = w0.fma(b1, a10); a11 = w1.fma(b1, a11);
            FloatVector b2 = FloatVector.broadcast(F, xp[xk + 2]); a20 = w0.fma(b2, a20); a21 = w1.fma(b2, a21);
            FloatVector b3 = FloatVector.broadcast(F, xp[xk + 3]); a30 = w0.fma(b3, a30); a31 = w1.fma(b3, a31);
            FloatVector b4 = FloatVector.broadcast(F, xp[xk + 4]); a40 = w0.fma(b4, a40); a41 = w1.fma(b4, a41);
            FloatVector b5 = FloatVector.broadcast(F, xp[xk + 5]); a50 = w0.fma(b5, a50); a51 = w1.fma(b5, a51);
            FloatVector b6 = FloatVector.broadcast(F, xp[xk + 6]); a60 = w0.fma(b6, a60); a61 = w1.fma(b6, a61);
            FloatVector b7 = FloatVector.broadcast(F, xp[xk + 7]); a70 = w0.fma(b7, a70); a71 = w1.fma(b7, a71);
        }
        a00.intoArray(c, c0 + 0 * ldc + 0 * L); a01.intoArray(c, c0 + 0 * ldc + 1 * L);
        a10.intoArray(c, c0 + 1 * ldc + 0 * L); a11.intoArray(c, c0 + 1 * ldc + 1 * L);
        a20.intoArray(c, c0 + 2 * ldc + 0 * L); a21.intoArray(c, c0 + 2 * ldc + 1 * L);
        a30.intoArray(c, c0 + 3 * ldc + 0 * L); a31.intoArray(c, c0 + 3 * ldc + 1 * L);
        a40.intoArray(c, c0 + 4 * ldc + 0 * L); a41.intoArray(c, c0 + 4 * ldc + 1 * L);
        a50.intoArray(c, c0 + 5 * ldc + 0 * L); a51.intoArray(c, c0 + 5 * ldc + 1 * L);
        a60.intoArray(c, c0 + 6 * ldc + 0 * L); a61.intoArray(c, c0 + 6 * ldc + 1 * L);
        a70.intoArray(c, c0 + 7 * ldc + 0 * L); a71.intoArray(c, c0 + 7 * ldc + 1 * L);
    }

    /** 6 rows × 2 output vectors: 12 accumulators + 2 weight vectors + 1 broadcast live. */
    static void tile6x2(float[] xp, int x0, float[] wp, int wOff, int kc, float[] c, int c0, int ldc, boolean load) {
        FloatVector a00 = load ? FloatVector.fromArray(F, c, c0 + 0 * ldc + 0 * L) : FloatVector.zero(F), a01 = load ? FloatVector.fromArray(F, c, c0 + 0 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a10 = load ? FloatVector.fromArray(F, c, c0 + 1 * ldc + 0 * L) : FloatVector.zero(F), a11 = load ? FloatVector.fromArray(F, c, c0 + 1 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a20 = load ? FloatVector.fromArray(F, c, c0 + 2 * ldc + 0 * L) : FloatVector.zero(F), a21 = load ? FloatVector.fromArray(F, c, c0 + 2 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a30 = load ? FloatVector.fromArray(F, c, c0 + 3 * ldc + 0 * L) : FloatVector.zero(F), a31 = load ? FloatVector.fromArray(F, c, c0 + 3 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a40 = load ? FloatVector.fromArray(F, c, c0 + 4 * ldc + 0 * L) : FloatVector.zero(F), a41 = load ? FloatVector.fromArray(F, c, c0 + 4 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a50 = load ? FloatVector.fromArray(F, c, c0 + 5 * ldc + 0 * L) : FloatVector.zero(F), a51 = load ? FloatVector.fromArray(F, c, c0 + 5 * ldc + 1 * L) : FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            final int wk = wOff + k * 2 * L, xk = x0 + k * 6;
            FloatVector w0 = FloatVector.fromArray(F, wp, wk + 0 * L); FloatVector w1 = FloatVector.fromArray(F, wp, wk + 1 * L);
            FloatVector b0 = FloatVector.broadcast(F, xp[xk + 0]); a00 = w0.fma(b0, a00); a01 = w1.fma(b0, a01);
            FloatVector b1 = FloatVector.broadcast(F, xp[xk + 1]); a10 = w0.fma(b1, a10); a11 = w1.fma(b1, a11);
            FloatVector b2 = FloatVector.broadcast(F, xp[xk + 2]); a20 = w0.fma(b2, a20); a21 = w1.fma(b2, a21);
            FloatVector b3 = FloatVector.broadcast(F, xp[xk + 3]); a30 = w0.fma(b3, a30); a31 = w1.fma(b3, a31);
            FloatVector b4 = FloatVector.broadcast(F, xp[xk + 4]); a40 = w0.fma(b4, a40); a41 = w1.fma(b4, a41);
            FloatVector b5 = FloatVector.broadcast(F, xp[xk + 5]); a50 = w0.fma(b5, a50); a51 = w1.fma(b5, a51);
        }
        a00.intoArray(c, c0 + 0 * ldc + 0 * L); a01.intoArray(c, c0 + 0 * ldc + 1 * L);
        a10.intoArray(c, c0 + 1 * ldc + 0 * L); a11.intoArray(c, c0 + 1 * ldc + 1 * L);
        a20.intoArray(c, c0 + 2 * ldc + 0 * L); a21.intoArray(c, c0 + 2 * ldc + 1 * L);
        a30.intoArray(c, c0 + 3 * ldc + 0 * L); a31.intoArray(c, c0 + 3 * ldc + 1 * L);
        a40.intoArray(c, c0 + 4 * ldc + 0 * L); a41.intoArray(c, c0 + 4 * ldc + 1 * L);
        a50.intoArray(c, c0 + 5 * ldc + 0 * L); a51.intoArray(c, c0 + 5 * ldc + 1 * L);
    }

    /** 8 rows × 2 output vectors from a bf16 panel: 16 accumulators + 2 widened weight vectors + 1 broadcast live. */
    static void tile8x2Bf16(float[] xp, int x0, short[] wp, int wOff, int kc, float[] c, int c0, int ldc, boolean load) {
        FloatVector a00 = load ? FloatVector.fromArray(F, c, c0 + 0 * ldc + 0 * L) : FloatVector.zero(F), a01 = load ? FloatVector.fromArray(F, c, c0 + 0 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a10 = load ? FloatVector.fromArray(F, c, c0 + 1 * ldc + 0 * L) : FloatVector.zero(F), a11 = load ? FloatVector.fromArray(F, c, c0 + 1 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a20 = load ? FloatVector.fromArray(F, c, c0 + 2 * ldc + 0 * L) : FloatVector.zero(F), a21 = load ? FloatVector.fromArray(F, c, c0 + 2 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a30 = load ? FloatVector.fromArray(F, c, c0 + 3 * ldc + 0 * L) : FloatVector.zero(F), a31 = load ? FloatVector.fromArray(F, c, c0 + 3 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a40 = load ? FloatVector.fromArray(F, c, c0 + 4 * ldc + 0 * L) : FloatVector.zero(F), a41 = load ? FloatVector.fromArray(F, c, c0 + 4 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a50 = load ? FloatVector.fromArray(F, c, c0 + 5 * ldc + 0 * L) : FloatVector.zero(F), a51 = load ? FloatVector.fromArray(F, c, c0 + 5 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a60 = load ? FloatVector.fromArray(F, c, c0 + 6 * ldc + 0 * L) : FloatVector.zero(F), a61 = load ? FloatVector.fromArray(F, c, c0 + 6 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a70 = load ? FloatVector.fromArray(F, c, c0 + 7 * ldc + 0 * L) : FloatVector.zero(F), a71 = load ? FloatVector.fromArray(F, c, c0 + 7 * ldc + 1 * L) : FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            final int wk = wOff + k * 2 * L, xk = x0 + k * 8;
            IntVector p = ShortVector.fromArray(S, wp, wk).reinterpretAsInts();
            FloatVector w0 = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), w1 = p.and(HIGH_HALF).reinterpretAsFloats();
            FloatVector b0 = FloatVector.broadcast(F, xp[xk + 0]); a00 = w0.fma(b0, a00); a01 = w1.fma(b0, a01);
            FloatVector b1 = FloatVector.broadcast(F, xp[xk + 1]); a10 = w0.fma(b1, a10); a11 = w1.fma(b1, a11);
            FloatVector b2 = FloatVector.broadcast(F, xp[xk + 2]); a20 = w0.fma(b2, a20); a21 = w1.fma(b2, a21);
            FloatVector b3 = FloatVector.broadcast(F, xp[xk + 3]); a30 = w0.fma(b3, a30); a31 = w1.fma(b3, a31);
            FloatVector b4 = FloatVector.broadcast(F, xp[xk + 4]); a40 = w0.fma(b4, a40); a41 = w1.fma(b4, a41);
            FloatVector b5 = FloatVector.broadcast(F, xp[xk + 5]); a50 = w0.fma(b5, a50); a51 = w1.fma(b5, a51);
            FloatVector b6 = FloatVector.broadcast(F, xp[xk + 6]); a60 = w0.fma(b6, a60); a61 = w1.fma(b6, a61);
            FloatVector b7 = FloatVector.broadcast(F, xp[xk + 7]); a70 = w0.fma(b7, a70); a71 = w1.fma(b7, a71);
        }
        a00.intoArray(c, c0 + 0 * ldc + 0 * L); a01.intoArray(c, c0 + 0 * ldc + 1 * L);
        a10.intoArray(c, c0 + 1 * ldc + 0 * L); a11.intoArray(c, c0 + 1 * ldc + 1 * L);
        a20.intoArray(c, c0 + 2 * ldc + 0 * L); a21.intoArray(c, c0 + 2 * ldc + 1 * L);
        a30.intoArray(c, c0 + 3 * ldc + 0 * L); a31.intoArray(c, c0 + 3 * ldc + 1 * L);
        a40.intoArray(c, c0 + 4 * ldc + 0 * L); a41.intoArray(c, c0 + 4 * ldc + 1 * L);
        a50.intoArray(c, c0 + 5 * ldc + 0 * L); a51.intoArray(c, c0 + 5 * ldc + 1 * L);
        a60.intoArray(c, c0 + 6 * ldc + 0 * L); a61.intoArray(c, c0 + 6 * ldc + 1 * L);
        a70.intoArray(c, c0 + 7 * ldc + 0 * L); a71.intoArray(c, c0 + 7 * ldc + 1 * L);
    }

    /** 6 rows × 2 output vectors from a bf16 panel: 12 accumulators + 2 widened weight vectors + 1 broadcast live. */
    static void tile6x2Bf16(float[] xp, int x0, short[] wp, int wOff, int kc, float[] c, int c0, int ldc, boolean load) {
        FloatVector a00 = load ? FloatVector.fromArray(F, c, c0 + 0 * ldc + 0 * L) : FloatVector.zero(F), a01 = load ? FloatVector.fromArray(F, c, c0 + 0 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a10 = load ? FloatVector.fromArray(F, c, c0 + 1 * ldc + 0 * L) : FloatVector.zero(F), a11 = load ? FloatVector.fromArray(F, c, c0 + 1 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a20 = load ? FloatVector.fromArray(F, c, c0 + 2 * ldc + 0 * L) : FloatVector.zero(F), a21 = load ? FloatVector.fromArray(F, c, c0 + 2 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a30 = load ? FloatVector.fromArray(F, c, c0 + 3 * ldc + 0 * L) : FloatVector.zero(F), a31 = load ? FloatVector.fromArray(F, c, c0 + 3 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a40 = load ? FloatVector.fromArray(F, c, c0 + 4 * ldc + 0 * L) : FloatVector.zero(F), a41 = load ? FloatVector.fromArray(F, c, c0 + 4 * ldc + 1 * L) : FloatVector.zero(F);
        FloatVector a50 = load ? FloatVector.fromArray(F, c, c0 + 5 * ldc + 0 * L) : FloatVector.zero(F), a51 = load ? FloatVector.fromArray(F, c, c0 + 5 * ldc + 1 * L) : FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            final int wk = wOff + k * 2 * L, xk = x0 + k * 6;
            IntVector p = ShortVector.fromArray(S, wp, wk).reinterpretAsInts();
            FloatVector w0 = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), w1 = p.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector b0 = FloatVector.broadcast(F, xp[xk + 0]); a00 = w0.fma(b0, a00); a01 = w1.fma(b0, a01);
            FloatVector b1 = FloatVector.broadcast(F, xp[xk + 1]); a10 = w0.fma(b1, a10); a11 = w1.fma(b1, a11);
            FloatVector b2 = FloatVector.broadcast(F, xp[xk + 2]); a20 = w0.fma(b2, a20); a21 = w1.fma(b2, a21);
            FloatVector b3 = FloatVector.broadcast(F, xp[xk + 3]); a30 = w0.fma(b3, a30); a31 = w1.fma(b3, a31);
            FloatVector b4 = FloatVector.broadcast(F, xp[xk + 4]); a40 = w0.fma(b4, a40); a41 = w1.fma(b4, a41);
            FloatVector b5 = FloatVector.broadcast(F, xp[xk + 5]); a50 = w0.fma(b5, a50); a51 = w1.fma(b5, a51);
        }
        a00.intoArray(c, c0 + 0 * ldc + 0 * L); a01.intoArray(c, c0 + 0 * ldc + 1 * L);
        a10.intoArray(c, c0 + 1 * ldc + 0 * L); a11.intoArray(c, c0 + 1 * ldc + 1 * L);
        a20.intoArray(c, c0 + 2 * ldc + 0 * L); a21.intoArray(c, c0 + 2 * ldc + 1 * L);
        a30.intoArray(c, c0 + 3 * ldc + 0 * L); a31.intoArray(c, c0 + 3 * ldc + 1 * L);
        a40.intoArray(c, c0 + 4 * ldc + 0 * L); a41.intoArray(c, c0 + 4 * ldc + 1 * L);
        a50.intoArray(c, c0 + 5 * ldc + 0 * L); a51.intoArray(c, c0 + 5 * ldc + 1 * L);
    }

}
