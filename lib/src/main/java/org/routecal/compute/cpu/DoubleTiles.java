package org.routecal.compute.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The double-precision update tile shared by {@link GramKernels} (XᵀX), {@link CholeskyKernels} and
 * {@link QuadraticForms} (tr(D·H·Dᵀ)): C (+)= sign·A·B on
 * a block of ROWS rows × WIDTH columns, B read as vectors along its rows, A as broadcast scalars addressed through two
 * strides — (row stride 1, column stride lda) reads Aᵀ in place, which is how the symmetric updates use it. Outer-product
 * form: no horizontal reductions. Sizes fit the register file like the float tiles (4 × 4 vectors = 16 accumulators + 4 +
 * 1 on 32 registers; 2 × 4 on 16). Unrolled bodies written out by tests/cpu/gen_double_tiles.py.
 */
final class DoubleTiles {
    static final VectorSpecies<Double> D = VectorSpecies.of(double.class, VectorOps.SPECIES.vectorShape());
    private static final boolean WIDE = MatmulKernels.TILES == MatmulKernels.Tiles.WIDE;
    /** Rows of C per tile. */
    static final int ROWS = WIDE ? 4 : 2;
    /** Columns of C per tile: four vectors. */
    static final int WIDTH = 4 * D.length();

    private DoubleTiles() {}

    /**
     * C[i0 + r, j0 + t] += sign · Σ_{p < pCount} a[aOff + r·aRs + p·aCs] · b[bOff + p·ldb + t] for r < ROWS, t < WIDTH,
     * with C at c[cOff + i·ldc + j]. With {@code mask} only entries with j ≥ i, i < limit and j < limit are written
     * (diagonal and edge tiles of an upper triangle); {@code tmp} is scratch of D.length() doubles.
     */
    static void tile(double[] a, int aOff, int aRs, int aCs, double[] b, int bOff, int ldb, int pCount,
                     double[] c, int cOff, int ldc, double sign, int i0, int j0, int limit, boolean mask, double[] tmp) {
        if (WIDE) tile4x4(a, aOff, aRs, aCs, b, bOff, ldb, pCount, c, cOff, ldc, sign, i0, j0, limit, mask, tmp);
        else tile2x4(a, aOff, aRs, aCs, b, bOff, ldb, pCount, c, cOff, ldc, sign, i0, j0, limit, mask, tmp);
    }

    /** C[i0+r, j0+c·L …] += sign · Σ_p A(r, p)·B[p, j0+c·L …] for r < 4, c < 4 vectors: 16 accumulators + 4 B vectors + 1 broadcast. */
    static void tile4x4(double[] a, int aOff, int aRs, int aCs, double[] b, int bOff, int ldb, int pCount,
                         double[] c, int cOff, int ldc, double sign, int i0, int j0, int limit, boolean mask, double[] tmp) {
        final int l = D.length();
        DoubleVector s00 = DoubleVector.zero(D), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00, s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
        for (int p = 0; p < pCount; p++) {
            int bp = bOff + p * ldb, ap = aOff + p * aCs;
            DoubleVector b0 = DoubleVector.fromArray(D, b, bp + 0 * l); DoubleVector b1 = DoubleVector.fromArray(D, b, bp + 1 * l); DoubleVector b2 = DoubleVector.fromArray(D, b, bp + 2 * l); DoubleVector b3 = DoubleVector.fromArray(D, b, bp + 3 * l);
            DoubleVector x0 = DoubleVector.broadcast(D, a[ap + 0 * aRs]);
            s00 = x0.fma(b0, s00); s01 = x0.fma(b1, s01); s02 = x0.fma(b2, s02); s03 = x0.fma(b3, s03);
            DoubleVector x1 = DoubleVector.broadcast(D, a[ap + 1 * aRs]);
            s10 = x1.fma(b0, s10); s11 = x1.fma(b1, s11); s12 = x1.fma(b2, s12); s13 = x1.fma(b3, s13);
            DoubleVector x2 = DoubleVector.broadcast(D, a[ap + 2 * aRs]);
            s20 = x2.fma(b0, s20); s21 = x2.fma(b1, s21); s22 = x2.fma(b2, s22); s23 = x2.fma(b3, s23);
            DoubleVector x3 = DoubleVector.broadcast(D, a[ap + 3 * aRs]);
            s30 = x3.fma(b0, s30); s31 = x3.fma(b1, s31); s32 = x3.fma(b2, s32); s33 = x3.fma(b3, s33);
        }
        if (!mask) {
            DoubleVector sg = DoubleVector.broadcast(D, sign);
            { int at = cOff + (i0 + 0) * ldc + j0 + 0 * l; s00.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 0) * ldc + j0 + 1 * l; s01.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 0) * ldc + j0 + 2 * l; s02.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 0) * ldc + j0 + 3 * l; s03.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 1) * ldc + j0 + 0 * l; s10.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 1) * ldc + j0 + 1 * l; s11.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 1) * ldc + j0 + 2 * l; s12.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 1) * ldc + j0 + 3 * l; s13.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 2) * ldc + j0 + 0 * l; s20.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 2) * ldc + j0 + 1 * l; s21.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 2) * ldc + j0 + 2 * l; s22.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 2) * ldc + j0 + 3 * l; s23.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 3) * ldc + j0 + 0 * l; s30.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 3) * ldc + j0 + 1 * l; s31.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 3) * ldc + j0 + 2 * l; s32.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 3) * ldc + j0 + 3 * l; s33.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            return;
        }
        // diagonal or edge tile: only j ≥ i inside [0, limit) is written (the caller's lower triangle stays untouched)
        s00.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 0, j0 + 0 * l, limit, sign, tmp);
        s01.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 0, j0 + 1 * l, limit, sign, tmp);
        s02.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 0, j0 + 2 * l, limit, sign, tmp);
        s03.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 0, j0 + 3 * l, limit, sign, tmp);
        s10.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 1, j0 + 0 * l, limit, sign, tmp);
        s11.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 1, j0 + 1 * l, limit, sign, tmp);
        s12.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 1, j0 + 2 * l, limit, sign, tmp);
        s13.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 1, j0 + 3 * l, limit, sign, tmp);
        s20.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 2, j0 + 0 * l, limit, sign, tmp);
        s21.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 2, j0 + 1 * l, limit, sign, tmp);
        s22.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 2, j0 + 2 * l, limit, sign, tmp);
        s23.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 2, j0 + 3 * l, limit, sign, tmp);
        s30.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 3, j0 + 0 * l, limit, sign, tmp);
        s31.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 3, j0 + 1 * l, limit, sign, tmp);
        s32.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 3, j0 + 2 * l, limit, sign, tmp);
        s33.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 3, j0 + 3 * l, limit, sign, tmp);
    }

    /** C[i0+r, j0+c·L …] += sign · Σ_p A(r, p)·B[p, j0+c·L …] for r < 2, c < 4 vectors: 8 accumulators + 4 B vectors + 1 broadcast. */
    static void tile2x4(double[] a, int aOff, int aRs, int aCs, double[] b, int bOff, int ldb, int pCount,
                         double[] c, int cOff, int ldc, double sign, int i0, int j0, int limit, boolean mask, double[] tmp) {
        final int l = D.length();
        DoubleVector s00 = DoubleVector.zero(D), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        for (int p = 0; p < pCount; p++) {
            int bp = bOff + p * ldb, ap = aOff + p * aCs;
            DoubleVector b0 = DoubleVector.fromArray(D, b, bp + 0 * l); DoubleVector b1 = DoubleVector.fromArray(D, b, bp + 1 * l); DoubleVector b2 = DoubleVector.fromArray(D, b, bp + 2 * l); DoubleVector b3 = DoubleVector.fromArray(D, b, bp + 3 * l);
            DoubleVector x0 = DoubleVector.broadcast(D, a[ap + 0 * aRs]);
            s00 = x0.fma(b0, s00); s01 = x0.fma(b1, s01); s02 = x0.fma(b2, s02); s03 = x0.fma(b3, s03);
            DoubleVector x1 = DoubleVector.broadcast(D, a[ap + 1 * aRs]);
            s10 = x1.fma(b0, s10); s11 = x1.fma(b1, s11); s12 = x1.fma(b2, s12); s13 = x1.fma(b3, s13);
        }
        if (!mask) {
            DoubleVector sg = DoubleVector.broadcast(D, sign);
            { int at = cOff + (i0 + 0) * ldc + j0 + 0 * l; s00.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 0) * ldc + j0 + 1 * l; s01.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 0) * ldc + j0 + 2 * l; s02.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 0) * ldc + j0 + 3 * l; s03.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 1) * ldc + j0 + 0 * l; s10.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 1) * ldc + j0 + 1 * l; s11.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 1) * ldc + j0 + 2 * l; s12.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            { int at = cOff + (i0 + 1) * ldc + j0 + 3 * l; s13.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }
            return;
        }
        // diagonal or edge tile: only j ≥ i inside [0, limit) is written (the caller's lower triangle stays untouched)
        s00.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 0, j0 + 0 * l, limit, sign, tmp);
        s01.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 0, j0 + 1 * l, limit, sign, tmp);
        s02.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 0, j0 + 2 * l, limit, sign, tmp);
        s03.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 0, j0 + 3 * l, limit, sign, tmp);
        s10.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 1, j0 + 0 * l, limit, sign, tmp);
        s11.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 1, j0 + 1 * l, limit, sign, tmp);
        s12.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 1, j0 + 2 * l, limit, sign, tmp);
        s13.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + 1, j0 + 3 * l, limit, sign, tmp);
    }

    static void maskedAdd(double[] c, int cOff, int ldc, int i, int j0, int limit, double sign, double[] tmp) {
        if (i >= limit) return;
        for (int t = 0; t < tmp.length; t++) {
            int j = j0 + t;
            if (j >= i && j < limit) c[cOff + i * ldc + j] += sign * tmp[t];
        }
    }
}
