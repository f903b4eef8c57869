package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two updates of GPTQ's column sweep, vectorised over columns but rounded exactly as the scalar loops they replace
 * (so the codes do not change): every product e·u is rounded to float and then added, in ascending k — a separate
 * multiply and add per lane, never a fused multiply-add. On CPUs with separate FMA and add pipes (Zen 4: 2 + 2) the
 * pair costs about what one FMA does.
 */
public final class GptqSweepKernels {
    static final VectorSpecies<Float> F = VectorOps.SPECIES;
    private static final boolean WIDE = MatmulKernels.TILES == MatmulKernels.Tiles.WIDE;

    private GptqSweepKernels() {}

    /**
     * y[yOff + t·n + k] −= e[k] · u[uOff + t] for t < count, k < n (each product rounded before the subtraction): the
     * within-block GPTQ update on a transposed block, rows of y being columns of W and lanes its rows.
     */
    public static void subtractOuter(float[] y, int yOff, int n, int count, float[] e, float[] u, int uOff) {
        int step = F.length(), bound = F.loopBound(n);
        for (int t = 0; t < count; t++) {
            float ut = u[uOff + t];
            FloatVector vu = FloatVector.broadcast(F, ut);
            int row = yOff + t * n, k = 0;
            for (; k < bound; k += step) {
                FloatVector.fromArray(F, y, row + k).sub(FloatVector.fromArray(F, e, k).mul(vu)).intoArray(y, row + k);
            }
            for (; k < n; k++) y[row + k] -= e[k] * ut;
        }
    }

    /**
     * W[r, j] −= Σ_{p<k} E[r, p]·U[p, j] for r < rows, j < len, the sum accumulated from 0 in ascending p (each product
     * rounded, then added) and subtracted once — the lazy block update of GPTQ. W at w[wOff + r·ldw + j], E at
     * e[eOff + r·lde + p], U at u[uOff + p·ldu + j].
     */
    public static void subtractProduct(float[] w, int wOff, int ldw, float[] e, int eOff, int lde, float[] u, int uOff, int ldu,
                                       int rows, int k, int len) {
        int l = F.length(), width = 4 * l, tileRows = WIDE ? 4 : 2;
        int j = 0;
        for (; j + width <= len; j += width) {
            int r = 0;
            for (; r + tileRows <= rows; r += tileRows) {
                if (WIDE) tile4x4(w, wOff + r * ldw + j, ldw, e, eOff + r * lde, lde, u, uOff + j, ldu, k);
                else tile2x4(w, wOff + r * ldw + j, ldw, e, eOff + r * lde, lde, u, uOff + j, ldu, k);
            }
            for (; r < rows; r++) tile1x4(w, wOff + r * ldw + j, ldw, e, eOff + r * lde, lde, u, uOff + j, ldu, k);
        }
        for (; j + l <= len; j += l) {
            for (int r = 0; r < rows; r++) tile1x1(w, wOff + r * ldw + j, ldw, e, eOff + r * lde, lde, u, uOff + j, ldu, k);
        }
        for (; j < len; j++) {
            for (int r = 0; r < rows; r++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += e[eOff + r * lde + p] * u[uOff + p * ldu + j];
                w[wOff + r * ldw + j] -= s;
            }
        }
    }

    /** 4 rows × 4 vectors of columns: 16 accumulators + 4 U vectors + broadcast + product. */
    private static void tile4x4(float[] w, int w0, int ldw, float[] e, int e0, int lde, float[] u, int u0, int ldu, int k) {
        final int l = F.length();
        FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00, s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
        for (int p = 0; p < k; p++) {
            int up = u0 + p * ldu;
            FloatVector b0 = FloatVector.fromArray(F, u, up + 0 * l); FloatVector b1 = FloatVector.fromArray(F, u, up + 1 * l); FloatVector b2 = FloatVector.fromArray(F, u, up + 2 * l); FloatVector b3 = FloatVector.fromArray(F, u, up + 3 * l);
            FloatVector x0 = FloatVector.broadcast(F, e[e0 + 0 * lde + p]);
            s00 = s00.add(x0.mul(b0)); s01 = s01.add(x0.mul(b1)); s02 = s02.add(x0.mul(b2)); s03 = s03.add(x0.mul(b3));
            FloatVector x1 = FloatVector.broadcast(F, e[e0 + 1 * lde + p]);
            s10 = s10.add(x1.mul(b0)); s11 = s11.add(x1.mul(b1)); s12 = s12.add(x1.mul(b2)); s13 = s13.add(x1.mul(b3));
            FloatVector x2 = FloatVector.broadcast(F, e[e0 + 2 * lde + p]);
            s20 = s20.add(x2.mul(b0)); s21 = s21.add(x2.mul(b1)); s22 = s22.add(x2.mul(b2)); s23 = s23.add(x2.mul(b3));
            FloatVector x3 = FloatVector.broadcast(F, e[e0 + 3 * lde + p]);
            s30 = s30.add(x3.mul(b0)); s31 = s31.add(x3.mul(b1)); s32 = s32.add(x3.mul(b2)); s33 = s33.add(x3.mul(b3));
        }
        { int at = w0 + 0 * ldw + 0 * l; FloatVector.fromArray(F, w, at).sub(s00).intoArray(w, at); }
        { int at = w0 + 0 * ldw + 1 * l; FloatVector.fromArray(F, w, at).sub(s01).intoArray(w, at); }
        { int at = w0 + 0 * ldw + 2 * l; FloatVector.fromArray(F, w, at).sub(s02).intoArray(w, at); }
        { int at = w0 + 0 * ldw + 3 * l; FloatVector.fromArray(F, w, at).sub(s03).intoArray(w, at); }
        { int at = w0 + 1 * ldw + 0 * l; FloatVector.fromArray(F, w, at).sub(s10).intoArray(w, at); }
        { int at = w0 + 1 * ldw + 1 * l; FloatVector.fromArray(F, w, at).sub(s11).intoArray(w, at); }
        { int at = w0 + 1 * ldw + 2 * l; FloatVector.fromArray(F, w, at).sub(s12).intoArray(w, at); }
        { int at = w0 + 1 * ldw + 3 * l; FloatVector.fromArray(F, w, at).sub(s13).intoArray(w, at); }
        { int at = w0 + 2 * ldw + 0 * l; FloatVector.fromArray(F, w, at).sub(s20).intoArray(w, at); }
        { int at = w0 + 2 * ldw + 1 * l; FloatVector.fromArray(F, w, at).sub(s21).intoArray(w, at); }
        { int at = w0 + 2 * ldw + 2 * l; FloatVector.fromArray(F, w, at).sub(s22).intoArray(w, at); }
        { int at = w0 + 2 * ldw + 3 * l; FloatVector.fromArray(F, w, at).sub(s23).intoArray(w, at); }
        { int at = w0 + 3 * ldw + 0 * l; FloatVector.fromArray(F, w, at).sub(s30).intoArray(w, at); }
        { int at = w0 + 3 * ldw + 1 * l; FloatVector.fromArray(F, w, at).sub(s31).intoArray(w, at); }
        { int at = w0 + 3 * ldw + 2 * l; FloatVector.fromArray(F, w, at).sub(s32).intoArray(w, at); }
        { int at = w0 + 3 * ldw + 3 * l; FloatVector.fromArray(F, w, at).sub(s33).intoArray(w, at); }
    }

    /** 2 rows × 4 vectors of columns: 8 accumulators + 4 U vectors + broadcast + product. */
    private static void tile2x4(float[] w, int w0, int ldw, float[] e, int e0, int lde, float[] u, int u0, int ldu, int k) {
        final int l = F.length();
        FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        for (int p = 0; p < k; p++) {
            int up = u0 + p * ldu;
            FloatVector b0 = FloatVector.fromArray(F, u, up + 0 * l); FloatVector b1 = FloatVector.fromArray(F, u, up + 1 * l); FloatVector b2 = FloatVector.fromArray(F, u, up + 2 * l); FloatVector b3 = FloatVector.fromArray(F, u, up + 3 * l);
            FloatVector x0 = FloatVector.broadcast(F, e[e0 + 0 * lde + p]);
            s00 = s00.add(x0.mul(b0)); s01 = s01.add(x0.mul(b1)); s02 = s02.add(x0.mul(b2)); s03 = s03.add(x0.mul(b3));
            FloatVector x1 = FloatVector.broadcast(F, e[e0 + 1 * lde + p]);
            s10 = s10.add(x1.mul(b0)); s11 = s11.add(x1.mul(b1)); s12 = s12.add(x1.mul(b2)); s13 = s13.add(x1.mul(b3));
        }
        { int at = w0 + 0 * ldw + 0 * l; FloatVector.fromArray(F, w, at).sub(s00).intoArray(w, at); }
        { int at = w0 + 0 * ldw + 1 * l; FloatVector.fromArray(F, w, at).sub(s01).intoArray(w, at); }
        { int at = w0 + 0 * ldw + 2 * l; FloatVector.fromArray(F, w, at).sub(s02).intoArray(w, at); }
        { int at = w0 + 0 * ldw + 3 * l; FloatVector.fromArray(F, w, at).sub(s03).intoArray(w, at); }
        { int at = w0 + 1 * ldw + 0 * l; FloatVector.fromArray(F, w, at).sub(s10).intoArray(w, at); }
        { int at = w0 + 1 * ldw + 1 * l; FloatVector.fromArray(F, w, at).sub(s11).intoArray(w, at); }
        { int at = w0 + 1 * ldw + 2 * l; FloatVector.fromArray(F, w, at).sub(s12).intoArray(w, at); }
        { int at = w0 + 1 * ldw + 3 * l; FloatVector.fromArray(F, w, at).sub(s13).intoArray(w, at); }
    }

    /** 1 rows × 4 vectors of columns: 4 accumulators + 4 U vectors + broadcast + product. */
    private static void tile1x4(float[] w, int w0, int ldw, float[] e, int e0, int lde, float[] u, int u0, int ldu, int k) {
        final int l = F.length();
        FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00;
        for (int p = 0; p < k; p++) {
            int up = u0 + p * ldu;
            FloatVector b0 = FloatVector.fromArray(F, u, up + 0 * l); FloatVector b1 = FloatVector.fromArray(F, u, up + 1 * l); FloatVector b2 = FloatVector.fromArray(F, u, up + 2 * l); FloatVector b3 = FloatVector.fromArray(F, u, up + 3 * l);
            FloatVector x0 = FloatVector.broadcast(F, e[e0 + 0 * lde + p]);
            s00 = s00.add(x0.mul(b0)); s01 = s01.add(x0.mul(b1)); s02 = s02.add(x0.mul(b2)); s03 = s03.add(x0.mul(b3));
        }
        { int at = w0 + 0 * ldw + 0 * l; FloatVector.fromArray(F, w, at).sub(s00).intoArray(w, at); }
        { int at = w0 + 0 * ldw + 1 * l; FloatVector.fromArray(F, w, at).sub(s01).intoArray(w, at); }
        { int at = w0 + 0 * ldw + 2 * l; FloatVector.fromArray(F, w, at).sub(s02).intoArray(w, at); }
        { int at = w0 + 0 * ldw + 3 * l; FloatVector.fromArray(F, w, at).sub(s03).intoArray(w, at); }
    }

    /** 1 rows × 1 vectors of columns: 1 accumulators + 1 U vectors + broadcast + product. */
    private static void tile1x1(float[] w, int w0, int ldw, float[] e, int e0, int lde, float[] u, int u0, int ldu, int k) {
        final int l = F.length();
        FloatVector s00 = FloatVector.zero(F);
        for (int p = 0; p < k; p++) {
            int up = u0 + p * ldu;
            FloatVector b0 = FloatVector.fromArray(F, u, up + 0 * l);
            FloatVector x0 = FloatVector.broadcast(F, e[e0 + 0 * lde + p]);
            s00 = s00.add(x0.mul(b0));
        }
        { int at = w0 + 0 * ldw + 0 * l; FloatVector.fromArray(F, w, at).sub(s00).intoArray(w, at); }
    }
}
