package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles of y = x·Wᵀ with float32 weights, in dot-product form: each accumulator sums one (row, output) pair
 * along the input dimension, lanes over k; every loaded x vector feeds all the tile's outputs and every weight vector
 * all its rows; four outputs per row are summed together at the end ({@link Reductions#sum4}). Sizes fit the register
 * file: 4×4 on 32-register ISAs (AVX-512, NEON/SVE: 16 accumulators + 4 x + 1 w), 2×4 on 16-register AVX2 (8 + 2 + 1),
 * so C2 keeps everything in registers (a 4×6 tile, 29 live vectors, measured 25 % slower: spills). The unrolled bodies
 * are written out by tests/cpu/gen_tiles.py. x rows: stride {@code in}; w rows: stride {@code in}; y rows: stride ldy.
 */
final class F32Tiles {
    static final VectorSpecies<Float> F = VectorOps.SPECIES;

    private F32Tiles() {}

    /** 4 rows × 4 outputs: 16 accumulators + 4 x vectors + 1 weight vector live. */
    static void tile4x4(float[] x, int x0, int in, float[] w, int w0, float[] y, int y0, int ldy, float[] bias, int o, boolean accumulate) {
        final int step = F.length(), bound = F.loopBound(in);
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
            FloatVector v0 = FloatVector.fromArray(F, x, xr0 + k); FloatVector v1 = FloatVector.fromArray(F, x, xr1 + k); FloatVector v2 = FloatVector.fromArray(F, x, xr2 + k); FloatVector v3 = FloatVector.fromArray(F, x, xr3 + k);
            FloatVector b0 = FloatVector.fromArray(F, w, wc0 + k);
            a00 = v0.fma(b0, a00); a10 = v1.fma(b0, a10); a20 = v2.fma(b0, a20); a30 = v3.fma(b0, a30);
            FloatVector b1 = FloatVector.fromArray(F, w, wc1 + k);
            a01 = v0.fma(b1, a01); a11 = v1.fma(b1, a11); a21 = v2.fma(b1, a21); a31 = v3.fma(b1, a31);
            FloatVector b2 = FloatVector.fromArray(F, w, wc2 + k);
            a02 = v0.fma(b2, a02); a12 = v1.fma(b2, a12); a22 = v2.fma(b2, a22); a32 = v3.fma(b2, a32);
            FloatVector b3 = FloatVector.fromArray(F, w, wc3 + k);
            a03 = v0.fma(b3, a03); a13 = v1.fma(b3, a13); a23 = v2.fma(b3, a23); a33 = v3.fma(b3, a33);
        }
        // four accumulators of a row folded into one vector of four sums, written out here rather than in a helper:
        // a call after the loop is not hot enough for C2 to inline and would box every vector (see Reductions)
        FloatVector h0a = a00.add(a00.rearrange(Reductions.SWAP_HALF)).blend(a01.add(a01.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h0b = a02.add(a02.rearrange(Reductions.SWAP_HALF)).blend(a03.add(a03.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s0 = h0a.add(h0a.rearrange(Reductions.SWAP_QUARTER)).blend(h0b.add(h0b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s0 = s0.add(s0.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s0 = s0.add(s0.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 0 * ldy + 0, s0.lane(0) + tail(x, xr0, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 0 * ldy + 1, s0.lane(Reductions.L / 2) + tail(x, xr0, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 0 * ldy + 2, s0.lane(Reductions.L / 4) + tail(x, xr0, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 0 * ldy + 3, s0.lane(3 * Reductions.L / 4) + tail(x, xr0, w, wc3, k, in), bias, o + 3, accumulate);
        FloatVector h1a = a10.add(a10.rearrange(Reductions.SWAP_HALF)).blend(a11.add(a11.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h1b = a12.add(a12.rearrange(Reductions.SWAP_HALF)).blend(a13.add(a13.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s1 = h1a.add(h1a.rearrange(Reductions.SWAP_QUARTER)).blend(h1b.add(h1b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s1 = s1.add(s1.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s1 = s1.add(s1.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 1 * ldy + 0, s1.lane(0) + tail(x, xr1, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 1 * ldy + 1, s1.lane(Reductions.L / 2) + tail(x, xr1, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 1 * ldy + 2, s1.lane(Reductions.L / 4) + tail(x, xr1, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 1 * ldy + 3, s1.lane(3 * Reductions.L / 4) + tail(x, xr1, w, wc3, k, in), bias, o + 3, accumulate);
        FloatVector h2a = a20.add(a20.rearrange(Reductions.SWAP_HALF)).blend(a21.add(a21.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h2b = a22.add(a22.rearrange(Reductions.SWAP_HALF)).blend(a23.add(a23.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s2 = h2a.add(h2a.rearrange(Reductions.SWAP_QUARTER)).blend(h2b.add(h2b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s2 = s2.add(s2.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s2 = s2.add(s2.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 2 * ldy + 0, s2.lane(0) + tail(x, xr2, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 2 * ldy + 1, s2.lane(Reductions.L / 2) + tail(x, xr2, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 2 * ldy + 2, s2.lane(Reductions.L / 4) + tail(x, xr2, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 2 * ldy + 3, s2.lane(3 * Reductions.L / 4) + tail(x, xr2, w, wc3, k, in), bias, o + 3, accumulate);
        FloatVector h3a = a30.add(a30.rearrange(Reductions.SWAP_HALF)).blend(a31.add(a31.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h3b = a32.add(a32.rearrange(Reductions.SWAP_HALF)).blend(a33.add(a33.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s3 = h3a.add(h3a.rearrange(Reductions.SWAP_QUARTER)).blend(h3b.add(h3b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s3 = s3.add(s3.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s3 = s3.add(s3.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 3 * ldy + 0, s3.lane(0) + tail(x, xr3, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 3 * ldy + 1, s3.lane(Reductions.L / 2) + tail(x, xr3, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 3 * ldy + 2, s3.lane(Reductions.L / 4) + tail(x, xr3, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 3 * ldy + 3, s3.lane(3 * Reductions.L / 4) + tail(x, xr3, w, wc3, k, in), bias, o + 3, accumulate);
    }

    /** 2 rows × 4 outputs: 8 accumulators + 2 x vectors + 1 weight vector live. */
    static void tile2x4(float[] x, int x0, int in, float[] w, int w0, float[] y, int y0, int ldy, float[] bias, int o, boolean accumulate) {
        final int step = F.length(), bound = F.loopBound(in);
        final int xr0 = x0 + 0 * in;
        final int xr1 = x0 + 1 * in;
        final int wc0 = w0 + 0 * in;
        final int wc1 = w0 + 1 * in;
        final int wc2 = w0 + 2 * in;
        final int wc3 = w0 + 3 * in;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int k = 0;
        for (; k < bound; k += step) {
            FloatVector v0 = FloatVector.fromArray(F, x, xr0 + k); FloatVector v1 = FloatVector.fromArray(F, x, xr1 + k);
            FloatVector b0 = FloatVector.fromArray(F, w, wc0 + k);
            a00 = v0.fma(b0, a00); a10 = v1.fma(b0, a10);
            FloatVector b1 = FloatVector.fromArray(F, w, wc1 + k);
            a01 = v0.fma(b1, a01); a11 = v1.fma(b1, a11);
            FloatVector b2 = FloatVector.fromArray(F, w, wc2 + k);
            a02 = v0.fma(b2, a02); a12 = v1.fma(b2, a12);
            FloatVector b3 = FloatVector.fromArray(F, w, wc3 + k);
            a03 = v0.fma(b3, a03); a13 = v1.fma(b3, a13);
        }
        // four accumulators of a row folded into one vector of four sums, written out here rather than in a helper:
        // a call after the loop is not hot enough for C2 to inline and would box every vector (see Reductions)
        FloatVector h0a = a00.add(a00.rearrange(Reductions.SWAP_HALF)).blend(a01.add(a01.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h0b = a02.add(a02.rearrange(Reductions.SWAP_HALF)).blend(a03.add(a03.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s0 = h0a.add(h0a.rearrange(Reductions.SWAP_QUARTER)).blend(h0b.add(h0b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s0 = s0.add(s0.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s0 = s0.add(s0.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 0 * ldy + 0, s0.lane(0) + tail(x, xr0, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 0 * ldy + 1, s0.lane(Reductions.L / 2) + tail(x, xr0, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 0 * ldy + 2, s0.lane(Reductions.L / 4) + tail(x, xr0, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 0 * ldy + 3, s0.lane(3 * Reductions.L / 4) + tail(x, xr0, w, wc3, k, in), bias, o + 3, accumulate);
        FloatVector h1a = a10.add(a10.rearrange(Reductions.SWAP_HALF)).blend(a11.add(a11.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h1b = a12.add(a12.rearrange(Reductions.SWAP_HALF)).blend(a13.add(a13.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s1 = h1a.add(h1a.rearrange(Reductions.SWAP_QUARTER)).blend(h1b.add(h1b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s1 = s1.add(s1.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s1 = s1.add(s1.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 1 * ldy + 0, s1.lane(0) + tail(x, xr1, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 1 * ldy + 1, s1.lane(Reductions.L / 2) + tail(x, xr1, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 1 * ldy + 2, s1.lane(Reductions.L / 4) + tail(x, xr1, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 1 * ldy + 3, s1.lane(3 * Reductions.L / 4) + tail(x, xr1, w, wc3, k, in), bias, o + 3, accumulate);
    }

    /** 1 rows × 4 outputs: 4 accumulators + 1 x vectors + 1 weight vector live. */
    static void tile1x4(float[] x, int x0, int in, float[] w, int w0, float[] y, int y0, int ldy, float[] bias, int o, boolean accumulate) {
        final int step = F.length(), bound = F.loopBound(in);
        final int xr0 = x0 + 0 * in;
        final int wc0 = w0 + 0 * in;
        final int wc1 = w0 + 1 * in;
        final int wc2 = w0 + 2 * in;
        final int wc3 = w0 + 3 * in;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        int k = 0;
        for (; k < bound; k += step) {
            FloatVector v0 = FloatVector.fromArray(F, x, xr0 + k);
            FloatVector b0 = FloatVector.fromArray(F, w, wc0 + k);
            a00 = v0.fma(b0, a00);
            FloatVector b1 = FloatVector.fromArray(F, w, wc1 + k);
            a01 = v0.fma(b1, a01);
            FloatVector b2 = FloatVector.fromArray(F, w, wc2 + k);
            a02 = v0.fma(b2, a02);
            FloatVector b3 = FloatVector.fromArray(F, w, wc3 + k);
            a03 = v0.fma(b3, a03);
        }
        // four accumulators of a row folded into one vector of four sums, written out here rather than in a helper:
        // a call after the loop is not hot enough for C2 to inline and would box every vector (see Reductions)
        FloatVector h0a = a00.add(a00.rearrange(Reductions.SWAP_HALF)).blend(a01.add(a01.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector h0b = a02.add(a02.rearrange(Reductions.SWAP_HALF)).blend(a03.add(a03.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);
        FloatVector s0 = h0a.add(h0a.rearrange(Reductions.SWAP_QUARTER)).blend(h0b.add(h0b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);
        if (Reductions.L >= 8) s0 = s0.add(s0.rearrange(Reductions.SWAP_EIGHTH));
        if (Reductions.L >= 16) s0 = s0.add(s0.rearrange(Reductions.SWAP_SIXTEENTH));
        put(y, y0 + 0 * ldy + 0, s0.lane(0) + tail(x, xr0, w, wc0, k, in), bias, o + 0, accumulate);
        put(y, y0 + 0 * ldy + 1, s0.lane(Reductions.L / 2) + tail(x, xr0, w, wc1, k, in), bias, o + 1, accumulate);
        put(y, y0 + 0 * ldy + 2, s0.lane(Reductions.L / 4) + tail(x, xr0, w, wc2, k, in), bias, o + 2, accumulate);
        put(y, y0 + 0 * ldy + 3, s0.lane(3 * Reductions.L / 4) + tail(x, xr0, w, wc3, k, in), bias, o + 3, accumulate);
    }

    /** One (row, output) dot product for the edges. */
    static void dot1(float[] x, int xr, int in, float[] w, int wc, float[] y, int yi, float[] bias, int o, boolean accumulate) {
        final int step = F.length(), bound = F.loopBound(in);
        FloatVector a = FloatVector.zero(F);
        int k = 0;
        for (; k < bound; k += step) a = FloatVector.fromArray(F, x, xr + k).fma(FloatVector.fromArray(F, w, wc + k), a);
        put(y, yi, a.reduceLanes(VectorOperators.ADD) + tail(x, xr, w, wc, k, in), bias, o, accumulate);
    }

    /** Σ x[xr+k]·w[wc+k] over the scalar tail [from, in). */
    static float tail(float[] x, int xr, float[] w, int wc, int from, int in) {
        float s = 0f;
        for (int k = from; k < in; k++) s += x[xr + k] * w[wc + k];
        return s;
    }

    static void put(float[] y, int i, float sum, float[] bias, int o, boolean accumulate) {
        if (bias != null) sum += bias[o];
        y[i] = accumulate ? y[i] + sum : sum;
    }
}
