package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles of y = x·Wᵀ with bf16 weights kept as bf16: a vector of 2L bf16 values is loaded as shorts and viewed
 * as L ints; {@code int << 16} is the float of every even element and {@code int & 0xFFFF0000} that of every odd one
 * (a bf16 is the high half of a float32), so widening costs two integer ops per 2L weights and no decoded copy exists.
 * x must be packed to match ({@link #pack}: per block of 2L, even elements then odd ones), once per call. Dot-product
 * form as in {@link F32Tiles}; sizes fit the register file: 4×4 on 32 registers (16 + 8 + 3 = 27), 2×4 on 16
 * (8 + 4 + 3 = 15). The unrolled bodies are written out by tests/cpu/gen_tiles.py.
 */
final class Bf16Tiles {
    static final VectorSpecies<Float> F = VectorOps.SPECIES;
    /** Shorts of the same vector width: 2L bf16 values per load. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    private static final int HIGH_HALF = 0xFFFF0000;

    private Bf16Tiles() {}

    /** Largest multiple of 2L not above n: the part of a row the vector loop covers. */
    static int loopBound2(int n) {
        return n - n % (2 * F.length());
    }

    /**
     * Packs rows [0, rows) of x ([rows, in] from xOff) into xp ([rows, in]): within each full block of 2L inputs the
     * L even-indexed values, then the L odd-indexed ones; the tail [loopBound2(in), in) in natural order.
     */
    static void pack(float[] x, int xOff, int rows, int in, float[] xp) {
        int l = F.length(), bound = loopBound2(in);
        for (int r = 0; r < rows; r++) {
            int src = xOff + r * in, dst = r * in;
            for (int k = 0; k < bound; k += 2 * l) {
                for (int i = 0; i < l; i++) {
                    xp[dst + k + i] = x[src + k + 2 * i];
                    xp[dst + k + l + i] = x[src + k + 2 * i + 1];
                }
            }
            System.arraycopy(x, src + bound, xp, dst + bound, in - bound);
        }
    }

    /** 4 rows × 4 outputs: 16 accumulators + 8 x vectors (even/odd lanes) + 3 weight vectors live. */
    static void tile4x4(float[] xp, int x0, int in, short[] w, int w0, float[] y, int y0, int ldy, float[] bias, int o, boolean accumulate) {
        final int step = 2 * F.length(), bound = loopBound2(in);
        final int xr0 = x0 + 0 * in;
        final int xr1 = x0 + 1 * in;
        final int xr2 = x0 + 2 * in;
        final int xr3 = x0 + 3 * in;
        final int wc0 = w0 + 0 * in;
        final int wc1 = w0 + 1 * in;
        final int wc2 = w0 + 2 * in;
        final int wc3 = w0 + 3 * in;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int k = 0;
        for (; k < bound; k += step) {
            FloatVector e0 = FloatVector.fromArray(F, xp, xr0 + k), d0 = FloatVector.fromArray(F, xp, xr0 + k + F.length());
            FloatVector e1 = FloatVector.fromArray(F, xp, xr1 + k), d1 = FloatVector.fromArray(F, xp, xr1 + k + F.length());
            FloatVector e2 = FloatVector.fromArray(F, xp, xr2 + k), d2 = FloatVector.fromArray(F, xp, xr2 + k + F.length());
            FloatVector e3 = FloatVector.fromArray(F, xp, xr3 + k), d3 = FloatVector.fromArray(F, xp, xr3 + k + F.length());
            IntVector p0 = ShortVector.fromArray(S, w, wc0 + k).reinterpretAsInts();
            FloatVector be0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo0 = p0.and(HIGH_HALF).reinterpretAsFloats();
            a00 = e0.fma(be0, a00); a00 = d0.fma(bo0, a00); a10 = e1.fma(be0, a10); a10 = d1.fma(bo0, a10); a20 = e2.fma(be0, a20); a20 = d2.fma(bo0, a20); a30 = e3.fma(be0, a30); a30 = d3.fma(bo0, a30);
            IntVector p1 = ShortVector.fromArray(S, w, wc1 + k).reinterpretAsInts();
            FloatVector be1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo1 = p1.and(HIGH_HALF).reinterpretAsFloats();
            a01 = e0.fma(be1, a01); a01 = d0.fma(bo1, a01); a11 = e1.fma(be1, a11); a11 = d1.fma(bo1, a11); a21 = e2.fma(be1, a21); a21 = d2.fma(bo1, a21); a31 = e3.fma(be1, a31); a31 = d3.fma(bo1, a31);
            IntVector p2 = ShortVector.fromArray(S, w, wc2 + k).reinterpretAsInts();
            FloatVector be2 = p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo2 = p2.and(HIGH_HALF).reinterpretAsFloats();
            a02 = e0.fma(be2, a02); a02 = d0.fma(bo2, a02); a12 = e1.fma(be2, a12); a12 = d1.fma(bo2, a12); a22 = e2.fma(be2, a22); a22 = d2.fma(bo2, a22); a32 = e3.fma(be2, a32); a32 = d3.fma(bo2, a32);
            IntVector p3 = ShortVector.fromArray(S, w, wc3 + k).reinterpretAsInts();
            FloatVector be3 = p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo3 = p3.and(HIGH_HALF).reinterpretAsFloats();
            a03 = e0.fma(be3, a03); a03 = d0.fma(bo3, a03); a13 = e1.fma(be3, a13); a13 = d1.fma(bo3, a13); a23 = e2.fma(be3, a23); a23 = d2.fma(bo3, a23); a33 = e3.fma(be3, a33); a33 = d3.fma(bo3, a33);
        }
        // four accumulators of a row folded into one vector of four sums, written out here rather than in a helper:
        // a call after the loop is not hot enough for C2 to inline and would box every vector (see Reductions)
        FloatVector h0a = a00.add(a00.rearrange(Reductions.SWAP_HALF)).blend(a01.add(a01.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h0b = a02.add(a02.rearrange(Reductions.SWAP_HALF)).blend(a03.add(a03.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s0 = h0a.add(h0a.rearrange(Reductions.SWAP_QUARTER)).blend(h0b.add(h0b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s0 = s0.add(s0.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s0 = s0.add(s0.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 0 * ldy + 0, s0.lane(0) + tail(xp, xr0, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 0 * ldy + 1, s0.lane(Reductions.L / 2) + tail(xp, xr0, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 0 * ldy + 2, s0.lane(Reductions.L / 4) + tail(xp, xr0, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 0 * ldy + 3, s0.lane(3 * Reductions.L / 4) + tail(xp, xr0, w, wc3, k, in), bias, o + 3, accumulate);
        FloatVector h1a = a10.add(a10.rearrange(Reductions.SWAP_HALF)).blend(a11.add(a11.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h1b = a12.add(a12.rearrange(Reductions.SWAP_HALF)).blend(a13.add(a13.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s1 = h1a.add(h1a.rearrange(Reductions.SWAP_QUARTER)).blend(h1b.add(h1b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s1 = s1.add(s1.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s1 = s1.add(s1.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 1 * ldy + 0, s1.lane(0) + tail(xp, xr1, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 1 * ldy + 1, s1.lane(Reductions.L / 2) + tail(xp, xr1, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 1 * ldy + 2, s1.lane(Reductions.L / 4) + tail(xp, xr1, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 1 * ldy + 3, s1.lane(3 * Reductions.L / 4) + tail(xp, xr1, w, wc3, k, in), bias, o + 3, accumulate);
        FloatVector h2a = a20.add(a20.rearrange(Reductions.SWAP_HALF)).blend(a21.add(a21.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h2b = a22.add(a22.rearrange(Reductions.SWAP_HALF)).blend(a23.add(a23.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s2 = h2a.add(h2a.rearrange(Reductions.SWAP_QUARTER)).blend(h2b.add(h2b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s2 = s2.add(s2.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s2 = s2.add(s2.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 2 * ldy + 0, s2.lane(0) + tail(xp, xr2, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 2 * ldy + 1, s2.lane(Reductions.L / 2) + tail(xp, xr2, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 2 * ldy + 2, s2.lane(Reductions.L / 4) + tail(xp, xr2, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 2 * ldy + 3, s2.lane(3 * Reductions.L / 4) + tail(xp, xr2, w, wc3, k, in), bias, o + 3, accumulate);
        FloatVector h3a = a30.add(a30.rearrange(Reductions.SWAP_HALF)).blend(a31.add(a31.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h3b = a32.add(a32.rearrange(Reductions.SWAP_HALF)).blend(a33.add(a33.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s3 = h3a.add(h3a.rearrange(Reductions.SWAP_QUARTER)).blend(h3b.add(h3b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s3 = s3.add(s3.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s3 = s3.add(s3.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 3 * ldy + 0, s3.lane(0) + tail(xp, xr3, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 3 * ldy + 1, s3.lane(Reductions.L / 2) + tail(xp, xr3, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 3 * ldy + 2, s3.lane(Reductions.L / 4) + tail(xp, xr3, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 3 * ldy + 3, s3.lane(3 * Reductions.L / 4) + tail(xp, xr3, w, wc3, k, in), bias, o + 3, accumulate);
    }

    /** 2 rows × 4 outputs: 8 accumulators + 4 x vectors (even/odd lanes) + 3 weight vectors live. */
    static void tile2x4(float[] xp, int x0, int in, short[] w, int w0, float[] y, int y0, int ldy, float[] bias, int o, boolean accumulate) {
        final int step = 2 * F.length(), bound = loopBound2(in);
        final int xr0 = x0 + 0 * in;
        final int xr1 = x0 + 1 * in;
        final int wc0 = w0 + 0 * in;
        final int wc1 = w0 + 1 * in;
        final int wc2 = w0 + 2 * in;
        final int wc3 = w0 + 3 * in;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int k = 0;
        for (; k < bound; k += step) {
            FloatVector e0 = FloatVector.fromArray(F, xp, xr0 + k), d0 = FloatVector.fromArray(F, xp, xr0 + k + F.length());
            FloatVector e1 = FloatVector.fromArray(F, xp, xr1 + k), d1 = FloatVector.fromArray(F, xp, xr1 + k + F.length());
            IntVector p0 = ShortVector.fromArray(S, w, wc0 + k).reinterpretAsInts();
            FloatVector be0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo0 = p0.and(HIGH_HALF).reinterpretAsFloats();
            a00 = e0.fma(be0, a00); a00 = d0.fma(bo0, a00); a10 = e1.fma(be0, a10); a10 = d1.fma(bo0, a10);
            IntVector p1 = ShortVector.fromArray(S, w, wc1 + k).reinterpretAsInts();
            FloatVector be1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo1 = p1.and(HIGH_HALF).reinterpretAsFloats();
            a01 = e0.fma(be1, a01); a01 = d0.fma(bo1, a01); a11 = e1.fma(be1, a11); a11 = d1.fma(bo1, a11);
            IntVector p2 = ShortVector.fromArray(S, w, wc2 + k).reinterpretAsInts();
            FloatVector be2 = p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo2 = p2.and(HIGH_HALF).reinterpretAsFloats();
            a02 = e0.fma(be2, a02); a02 = d0.fma(bo2, a02); a12 = e1.fma(be2, a12); a12 = d1.fma(bo2, a12);
            IntVector p3 = ShortVector.fromArray(S, w, wc3 + k).reinterpretAsInts();
            FloatVector be3 = p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo3 = p3.and(HIGH_HALF).reinterpretAsFloats();
            a03 = e0.fma(be3, a03); a03 = d0.fma(bo3, a03); a13 = e1.fma(be3, a13); a13 = d1.fma(bo3, a13);
        }
        // four accumulators of a row folded into one vector of four sums, written out here rather than in a helper:
        // a call after the loop is not hot enough for C2 to inline and would box every vector (see Reductions)
        FloatVector h0a = a00.add(a00.rearrange(Reductions.SWAP_HALF)).blend(a01.add(a01.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h0b = a02.add(a02.rearrange(Reductions.SWAP_HALF)).blend(a03.add(a03.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s0 = h0a.add(h0a.rearrange(Reductions.SWAP_QUARTER)).blend(h0b.add(h0b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s0 = s0.add(s0.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s0 = s0.add(s0.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 0 * ldy + 0, s0.lane(0) + tail(xp, xr0, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 0 * ldy + 1, s0.lane(Reductions.L / 2) + tail(xp, xr0, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 0 * ldy + 2, s0.lane(Reductions.L / 4) + tail(xp, xr0, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 0 * ldy + 3, s0.lane(3 * Reductions.L / 4) + tail(xp, xr0, w, wc3, k, in), bias, o + 3, accumulate);
        FloatVector h1a = a10.add(a10.rearrange(Reductions.SWAP_HALF)).blend(a11.add(a11.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h1b = a12.add(a12.rearrange(Reductions.SWAP_HALF)).blend(a13.add(a13.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s1 = h1a.add(h1a.rearrange(Reductions.SWAP_QUARTER)).blend(h1b.add(h1b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s1 = s1.add(s1.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s1 = s1.add(s1.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 1 * ldy + 0, s1.lane(0) + tail(xp, xr1, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 1 * ldy + 1, s1.lane(Reductions.L / 2) + tail(xp, xr1, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 1 * ldy + 2, s1.lane(Reductions.L / 4) + tail(xp, xr1, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 1 * ldy + 3, s1.lane(3 * Reductions.L / 4) + tail(xp, xr1, w, wc3, k, in), bias, o + 3, accumulate);
    }

    /** 1 rows × 4 outputs: 4 accumulators + 2 x vectors (even/odd lanes) + 3 weight vectors live. */
    static void tile1x4(float[] xp, int x0, int in, short[] w, int w0, float[] y, int y0, int ldy, float[] bias, int o, boolean accumulate) {
        final int step = 2 * F.length(), bound = loopBound2(in);
        final int xr0 = x0 + 0 * in;
        final int wc0 = w0 + 0 * in;
        final int wc1 = w0 + 1 * in;
        final int wc2 = w0 + 2 * in;
        final int wc3 = w0 + 3 * in;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        int k = 0;
        for (; k < bound; k += step) {
            FloatVector e0 = FloatVector.fromArray(F, xp, xr0 + k), d0 = FloatVector.fromArray(F, xp, xr0 + k + F.length());
            IntVector p0 = ShortVector.fromArray(S, w, wc0 + k).reinterpretAsInts();
            FloatVector be0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo0 = p0.and(HIGH_HALF).reinterpretAsFloats();
            a00 = e0.fma(be0, a00); a00 = d0.fma(bo0, a00);
            IntVector p1 = ShortVector.fromArray(S, w, wc1 + k).reinterpretAsInts();
            FloatVector be1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo1 = p1.and(HIGH_HALF).reinterpretAsFloats();
            a01 = e0.fma(be1, a01); a01 = d0.fma(bo1, a01);
            IntVector p2 = ShortVector.fromArray(S, w, wc2 + k).reinterpretAsInts();
            FloatVector be2 = p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo2 = p2.and(HIGH_HALF).reinterpretAsFloats();
            a02 = e0.fma(be2, a02); a02 = d0.fma(bo2, a02);
            IntVector p3 = ShortVector.fromArray(S, w, wc3 + k).reinterpretAsInts();
            FloatVector be3 = p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo3 = p3.and(HIGH_HALF).reinterpretAsFloats();
            a03 = e0.fma(be3, a03); a03 = d0.fma(bo3, a03);
        }
        // four accumulators of a row folded into one vector of four sums, written out here rather than in a helper:
        // a call after the loop is not hot enough for C2 to inline and would box every vector (see Reductions)
        FloatVector h0a = a00.add(a00.rearrange(Reductions.SWAP_HALF)).blend(a01.add(a01.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h0b = a02.add(a02.rearrange(Reductions.SWAP_HALF)).blend(a03.add(a03.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s0 = h0a.add(h0a.rearrange(Reductions.SWAP_QUARTER)).blend(h0b.add(h0b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s0 = s0.add(s0.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s0 = s0.add(s0.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 0 * ldy + 0, s0.lane(0) + tail(xp, xr0, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 0 * ldy + 1, s0.lane(Reductions.L / 2) + tail(xp, xr0, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 0 * ldy + 2, s0.lane(Reductions.L / 4) + tail(xp, xr0, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 0 * ldy + 3, s0.lane(3 * Reductions.L / 4) + tail(xp, xr0, w, wc3, k, in), bias, o + 3, accumulate);
    }

    /** One (row, output) dot product for the edges. */
    static void dot1(float[] xp, int xr, int in, short[] w, int wc, float[] y, int yi, float[] bias, int o, boolean accumulate) {
        final int step = 2 * F.length(), bound = loopBound2(in);
        FloatVector a = FloatVector.zero(F);
        int k = 0;
        for (; k < bound; k += step) {
            IntVector p = ShortVector.fromArray(S, w, wc + k).reinterpretAsInts();
            a = FloatVector.fromArray(F, xp, xr + k).fma(p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a);
            a = FloatVector.fromArray(F, xp, xr + k + F.length()).fma(p.and(HIGH_HALF).reinterpretAsFloats(), a);
        }
        put(y, yi, a.reduceLanes(VectorOperators.ADD) + tail(xp, xr, w, wc, k, in), bias, o, accumulate);
    }

    /** Σ x·w over the scalar tail [from, in) (natural order in the packed row). */
    static float tail(float[] xp, int xr, short[] w, int wc, int from, int in) {
        float s = 0f;
        for (int k = from; k < in; k++) s += xp[xr + k] * Float.intBitsToFloat(w[wc + k] << 16);
        return s;
    }

    static void put(float[] y, int i, float sum, float[] bias, int o, boolean accumulate) {
        F32Tiles.put(y, i, sum, bias, o, accumulate);
    }
}
