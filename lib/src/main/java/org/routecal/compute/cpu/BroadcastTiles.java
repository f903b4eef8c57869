package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * y = x·B with B [in, out] row-major (not transposed), on the calling thread, in outer-product form: for each k, x's
 * value of each tile row is broadcast and multiplied into a row of B loaded as vectors along the outputs. No horizontal
 * reductions, so it suits small input widths, where the dot-product tiles of {@link F32Tiles} spend most of their time
 * reducing: attention's Q·Kᵀ (input = the head dim, with K packed transposed) and P·V (V in its natural layout).
 * Tiles: 4 rows × 4 vectors on 32-register ISAs (16 accumulators + 4 B vectors + 1 broadcast), 6 rows × 2 vectors on
 * 16-register AVX2 (12 + 2 + 1: the 4 × 2 tile's 8 accumulators could not cover the FMA latency of two units, and
 * the 6 × 2 ran the blocked attention at 71–73 against 51–58 GFLOP/s on the 2-core AMD box), then 4 × 2 for the rows
 * left. The tiles are written out by {@code tests/cpu/gen_tiles.py broadcast 4x4 6x2 4x2}.
 * {@link ReferenceOps#matmulTransposed} on Bᵀ is its reference (tests).
 */
final class BroadcastTiles {
    static final VectorSpecies<Float> F = VectorOps.SPECIES;
    private static final int L = F.length();
    /** Output vectors per tile row. */
    static final int COLS = MatmulKernels.TILES == MatmulKernels.Tiles.WIDE ? 4 : 2;

    private BroadcastTiles() {}

    /**
     * y[rows, out] (from yOff, row stride ldy) = x[rows, in] (from xOff, row stride ldx) · b[in, out] (from bOff, row
     * stride ldb). The strides let attention read Q, Kᵀ and V where they lie and write O in place.
     */
    static void matmul(float[] x, int xOff, int ldx, int rows, int in, float[] b, int bOff, int ldb, int out,
                       float[] y, int yOff, int ldy) {
        int wide = COLS * L, r = 0;
        if (COLS == 2) for (; r + 6 <= rows; r += 6) { // AVX2: 6 rows first, the last 4 of a 64-query block in 4
            int o = 0;
            for (; o + wide <= out; o += wide) tile6x2(x, xOff + r * ldx, ldx, in, b, bOff + o, ldb, y, yOff + r * ldy + o, ldy);
            for (int i = r; i < r + 6; i++) rest(x, xOff + i * ldx, in, b, bOff, ldb, out, y, yOff + i * ldy, o);
        }
        for (; r + 4 <= rows; r += 4) {
            int o = 0;
            for (; o + wide <= out; o += wide) {
                if (COLS == 4) tile4x4(x, xOff + r * ldx, ldx, in, b, bOff + o, ldb, y, yOff + r * ldy + o, ldy);
                else tile4x2(x, xOff + r * ldx, ldx, in, b, bOff + o, ldb, y, yOff + r * ldy + o, ldy);
            }
            for (int i = r; i < r + 4; i++) rest(x, xOff + i * ldx, in, b, bOff, ldb, out, y, yOff + i * ldy, o);
        }
        for (; r < rows; r++) rest(x, xOff + r * ldx, in, b, bOff, ldb, out, y, yOff + r * ldy, 0);
    }

    /** 4 rows × 4 output vectors: 16 accumulators + 4 B vectors + 1 broadcast live. */
    private static void tile4x4(float[] x, int x0, int ldx, int in, float[] b, int b0, int ldb, float[] y, int y0, int ldy) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int k = 0; k < in; k++) {
            int bk = b0 + k * ldb;
            FloatVector c0 = FloatVector.fromArray(F, b, bk + 0 * L); FloatVector c1 = FloatVector.fromArray(F, b, bk + 1 * L); FloatVector c2 = FloatVector.fromArray(F, b, bk + 2 * L); FloatVector c3 = FloatVector.fromArray(F, b, bk + 3 * L);
            FloatVector v0 = FloatVector.broadcast(F, x[x0 + 0 * ldx + k]); a00 = c0.fma(v0, a00); a01 = c1.fma(v0, a01); a02 = c2.fma(v0, a02); a03 = c3.fma(v0, a03);
            FloatVector v1 = FloatVector.broadcast(F, x[x0 + 1 * ldx + k]); a10 = c0.fma(v1, a10); a11 = c1.fma(v1, a11); a12 = c2.fma(v1, a12); a13 = c3.fma(v1, a13);
            FloatVector v2 = FloatVector.broadcast(F, x[x0 + 2 * ldx + k]); a20 = c0.fma(v2, a20); a21 = c1.fma(v2, a21); a22 = c2.fma(v2, a22); a23 = c3.fma(v2, a23);
            FloatVector v3 = FloatVector.broadcast(F, x[x0 + 3 * ldx + k]); a30 = c0.fma(v3, a30); a31 = c1.fma(v3, a31); a32 = c2.fma(v3, a32); a33 = c3.fma(v3, a33);
        }
        a00.intoArray(y, y0 + 0 * ldy + 0 * L); a01.intoArray(y, y0 + 0 * ldy + 1 * L); a02.intoArray(y, y0 + 0 * ldy + 2 * L); a03.intoArray(y, y0 + 0 * ldy + 3 * L);
        a10.intoArray(y, y0 + 1 * ldy + 0 * L); a11.intoArray(y, y0 + 1 * ldy + 1 * L); a12.intoArray(y, y0 + 1 * ldy + 2 * L); a13.intoArray(y, y0 + 1 * ldy + 3 * L);
        a20.intoArray(y, y0 + 2 * ldy + 0 * L); a21.intoArray(y, y0 + 2 * ldy + 1 * L); a22.intoArray(y, y0 + 2 * ldy + 2 * L); a23.intoArray(y, y0 + 2 * ldy + 3 * L);
        a30.intoArray(y, y0 + 3 * ldy + 0 * L); a31.intoArray(y, y0 + 3 * ldy + 1 * L); a32.intoArray(y, y0 + 3 * ldy + 2 * L); a33.intoArray(y, y0 + 3 * ldy + 3 * L);
    }

    /** 6 rows × 2 output vectors: 12 accumulators + 2 B vectors + 1 broadcast live. */
    private static void tile6x2(float[] x, int x0, int ldx, int in, float[] b, int b0, int ldb, float[] y, int y0, int ldy) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        for (int k = 0; k < in; k++) {
            int bk = b0 + k * ldb;
            FloatVector c0 = FloatVector.fromArray(F, b, bk + 0 * L); FloatVector c1 = FloatVector.fromArray(F, b, bk + 1 * L);
            FloatVector v0 = FloatVector.broadcast(F, x[x0 + 0 * ldx + k]); a00 = c0.fma(v0, a00); a01 = c1.fma(v0, a01);
            FloatVector v1 = FloatVector.broadcast(F, x[x0 + 1 * ldx + k]); a10 = c0.fma(v1, a10); a11 = c1.fma(v1, a11);
            FloatVector v2 = FloatVector.broadcast(F, x[x0 + 2 * ldx + k]); a20 = c0.fma(v2, a20); a21 = c1.fma(v2, a21);
            FloatVector v3 = FloatVector.broadcast(F, x[x0 + 3 * ldx + k]); a30 = c0.fma(v3, a30); a31 = c1.fma(v3, a31);
            FloatVector v4 = FloatVector.broadcast(F, x[x0 + 4 * ldx + k]); a40 = c0.fma(v4, a40); a41 = c1.fma(v4, a41);
            FloatVector v5 = FloatVector.broadcast(F, x[x0 + 5 * ldx + k]); a50 = c0.fma(v5, a50); a51 = c1.fma(v5, a51);
        }
        a00.intoArray(y, y0 + 0 * ldy + 0 * L); a01.intoArray(y, y0 + 0 * ldy + 1 * L);
        a10.intoArray(y, y0 + 1 * ldy + 0 * L); a11.intoArray(y, y0 + 1 * ldy + 1 * L);
        a20.intoArray(y, y0 + 2 * ldy + 0 * L); a21.intoArray(y, y0 + 2 * ldy + 1 * L);
        a30.intoArray(y, y0 + 3 * ldy + 0 * L); a31.intoArray(y, y0 + 3 * ldy + 1 * L);
        a40.intoArray(y, y0 + 4 * ldy + 0 * L); a41.intoArray(y, y0 + 4 * ldy + 1 * L);
        a50.intoArray(y, y0 + 5 * ldy + 0 * L); a51.intoArray(y, y0 + 5 * ldy + 1 * L);
    }

    /** 4 rows × 2 output vectors: 8 accumulators + 2 B vectors + 1 broadcast live. */
    private static void tile4x2(float[] x, int x0, int ldx, int in, float[] b, int b0, int ldb, float[] y, int y0, int ldy) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int k = 0; k < in; k++) {
            int bk = b0 + k * ldb;
            FloatVector c0 = FloatVector.fromArray(F, b, bk + 0 * L); FloatVector c1 = FloatVector.fromArray(F, b, bk + 1 * L);
            FloatVector v0 = FloatVector.broadcast(F, x[x0 + 0 * ldx + k]); a00 = c0.fma(v0, a00); a01 = c1.fma(v0, a01);
            FloatVector v1 = FloatVector.broadcast(F, x[x0 + 1 * ldx + k]); a10 = c0.fma(v1, a10); a11 = c1.fma(v1, a11);
            FloatVector v2 = FloatVector.broadcast(F, x[x0 + 2 * ldx + k]); a20 = c0.fma(v2, a20); a21 = c1.fma(v2, a21);
            FloatVector v3 = FloatVector.broadcast(F, x[x0 + 3 * ldx + k]); a30 = c0.fma(v3, a30); a31 = c1.fma(v3, a31);
        }
        a00.intoArray(y, y0 + 0 * ldy + 0 * L); a01.intoArray(y, y0 + 0 * ldy + 1 * L);
        a10.intoArray(y, y0 + 1 * ldy + 0 * L); a11.intoArray(y, y0 + 1 * ldy + 1 * L);
        a20.intoArray(y, y0 + 2 * ldy + 0 * L); a21.intoArray(y, y0 + 2 * ldy + 1 * L);
        a30.intoArray(y, y0 + 3 * ldy + 0 * L); a31.intoArray(y, y0 + 3 * ldy + 1 * L);
    }

    /** One row, outputs [o0, out): a vector at a time, then scalars. */
    private static void rest(float[] x, int xr, int in, float[] b, int bOff, int ldb, int out, float[] y, int yr, int o0) {
        int o = o0;
        for (; o + L <= out; o += L) {
            FloatVector a = FloatVector.zero(F);
            for (int k = 0; k < in; k++) a = FloatVector.fromArray(F, b, bOff + k * ldb + o).fma(FloatVector.broadcast(F, x[xr + k]), a);
            a.intoArray(y, yr + o);
        }
        for (; o < out; o++) {
            float s = 0f;
            for (int k = 0; k < in; k++) s += x[xr + k] * b[bOff + k * ldb + o];
            y[yr + o] = s;
        }
    }
}
