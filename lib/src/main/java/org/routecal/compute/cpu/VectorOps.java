package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.routecal.compute.Ops;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Vector API kernels. The matmul computes a 4 (rows) × 4 (outputs) register tile of dot products at a time, so each
 * loaded x and w vector feeds four FMAs; tiles over output columns are split across a ForkJoin pool.
 *
 * <p>The species is a {@code static final} constant chosen once at class initialisation ({@code -Droutecal.vectorBits},
 * default the CPU's preferred width): C2 only intrinsifies Vector API calls whose species it can constant-fold, and an
 * instance field made every FMA fall back to Java code (a 20× slowdown seen in profiles).
 */
public final class VectorOps implements Ops {
    static final VectorSpecies<Float> SPECIES = pickSpecies();
    private static final VectorSpecies<Float> species = SPECIES;
    private final ForkJoinPool pool;

    private static VectorSpecies<Float> pickSpecies() {
        int bits = Integer.getInteger("routecal.vectorBits", 0);
        if (bits <= 0 || bits == FloatVector.SPECIES_PREFERRED.vectorBitSize()) return FloatVector.SPECIES_PREFERRED;
        return VectorSpecies.of(float.class, jdk.incubator.vector.VectorShape.forBitSize(bits));
    }

    public VectorOps(int threads) {
        this.pool = threads <= 1 ? null : new ForkJoinPool(threads);
    }

    @Override public String name() {
        return "vector(" + species.vectorBitSize() + " bit, " + (pool == null ? 1 : pool.getParallelism()) + " threads)";
    }

    @Override
    public void matmulTransposed(float[] x, int rows, int in, float[] w, int out, float[] bias, float[] y) {
        long work = (long) rows * in * out;
        if (pool == null || work < 1 << 16) {
            tileRange(x, rows, in, w, out, bias, y, 0, out);
            return;
        }
        pool.invoke(new Split(x, rows, in, w, out, bias, y, 0, out));
    }

    private final class Split extends RecursiveAction {
        final float[] x, w, bias, y; final int rows, in, out, lo, hi;
        Split(float[] x, int rows, int in, float[] w, int out, float[] bias, float[] y, int lo, int hi) {
            this.x = x; this.rows = rows; this.in = in; this.w = w; this.out = out; this.bias = bias; this.y = y; this.lo = lo; this.hi = hi;
        }
        @Override protected void compute() {
            if ((long) (hi - lo) * rows * in <= 1 << 17 || hi - lo <= 8) {
                tileRange(x, rows, in, w, out, bias, y, lo, hi);
                return;
            }
            int mid = lo + ((hi - lo) / 2 & ~3);
            invokeAll(new Split(x, rows, in, w, out, bias, y, lo, mid), new Split(x, rows, in, w, out, bias, y, mid, hi));
        }
    }

    /** Output columns [lo, hi) for all rows. */
    private void tileRange(float[] x, int rows, int in, float[] w, int out, float[] bias, float[] y, int lo, int hi) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int o = lo;
            for (; o + 4 <= hi; o += 4) tile4x4(x, r, in, w, o, out, bias, y);
            for (; o < hi; o++) for (int rr = r; rr < r + 4; rr++) y[rr * out + o] = dotBias(x, rr * in, w, o * in, in, bias, o);
        }
        for (; r < rows; r++) {
            int o = lo;
            for (; o + 4 <= hi; o += 4) tile1x4(x, r, in, w, o, out, bias, y);
            for (; o < hi; o++) y[r * out + o] = dotBias(x, r * in, w, o * in, in, bias, o);
        }
    }

    private float dotBias(float[] x, int xo, float[] w, int wo, int n, float[] bias, int o) {
        float s = dot(x, xo, w, wo, n);
        return bias == null ? s : s + bias[o];
    }

    private void tile4x4(float[] x, int r, int in, float[] w, int o, int out, float[] bias, float[] y) {
        int step = species.length(), bound = species.loopBound(in);
        int x0 = r * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        int w0 = o * in, w1 = w0 + in, w2 = w1 + in, w3 = w2 + in;
        FloatVector a00 = FloatVector.zero(species), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00,
                a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int i = 0;
        for (; i < bound; i += step) {
            FloatVector b0 = FloatVector.fromArray(species, w, w0 + i), b1 = FloatVector.fromArray(species, w, w1 + i),
                    b2 = FloatVector.fromArray(species, w, w2 + i), b3 = FloatVector.fromArray(species, w, w3 + i);
            FloatVector v = FloatVector.fromArray(species, x, x0 + i);
            a00 = v.fma(b0, a00); a01 = v.fma(b1, a01); a02 = v.fma(b2, a02); a03 = v.fma(b3, a03);
            v = FloatVector.fromArray(species, x, x1 + i);
            a10 = v.fma(b0, a10); a11 = v.fma(b1, a11); a12 = v.fma(b2, a12); a13 = v.fma(b3, a13);
            v = FloatVector.fromArray(species, x, x2 + i);
            a20 = v.fma(b0, a20); a21 = v.fma(b1, a21); a22 = v.fma(b2, a22); a23 = v.fma(b3, a23);
            v = FloatVector.fromArray(species, x, x3 + i);
            a30 = v.fma(b0, a30); a31 = v.fma(b1, a31); a32 = v.fma(b2, a32); a33 = v.fma(b3, a33);
        }
        store(a00, a01, a02, a03, x, x0, w, w0, in, i, y, r * out + o, bias, o);
        store(a10, a11, a12, a13, x, x1, w, w0, in, i, y, (r + 1) * out + o, bias, o);
        store(a20, a21, a22, a23, x, x2, w, w0, in, i, y, (r + 2) * out + o, bias, o);
        store(a30, a31, a32, a33, x, x3, w, w0, in, i, y, (r + 3) * out + o, bias, o);
    }

    /** Reduces one row's four accumulators, adds the scalar tail [from, in) and the bias, stores 4 outputs. */
    private static void store(FloatVector c0, FloatVector c1, FloatVector c2, FloatVector c3, float[] x, int xo,
                              float[] w, int w0, int in, int from, float[] y, int yo, float[] bias, int o) {
        float s0 = c0.reduceLanes(VectorOperators.ADD), s1 = c1.reduceLanes(VectorOperators.ADD),
                s2 = c2.reduceLanes(VectorOperators.ADD), s3 = c3.reduceLanes(VectorOperators.ADD);
        for (int i = from; i < in; i++) {
            float xv = x[xo + i];
            s0 += xv * w[w0 + i]; s1 += xv * w[w0 + in + i]; s2 += xv * w[w0 + 2 * in + i]; s3 += xv * w[w0 + 3 * in + i];
        }
        if (bias != null) { s0 += bias[o]; s1 += bias[o + 1]; s2 += bias[o + 2]; s3 += bias[o + 3]; }
        y[yo] = s0; y[yo + 1] = s1; y[yo + 2] = s2; y[yo + 3] = s3;
    }

    private void tile1x4(float[] x, int r, int in, float[] w, int o, int out, float[] bias, float[] y) {
        for (int c = 0; c < 4; c++) y[r * out + o + c] = dotBias(x, r * in, w, (o + c) * in, in, bias, o + c);
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int step = species.length(), bound = species.loopBound(n), i = 0;
        FloatVector acc = FloatVector.zero(species);
        for (; i < bound; i += step) {
            acc = FloatVector.fromArray(species, a, aOff + i).fma(FloatVector.fromArray(species, b, bOff + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int step = species.length(), bound = species.loopBound(n), i = 0;
        FloatVector va = FloatVector.broadcast(species, alpha);
        for (; i < bound; i += step) {
            FloatVector.fromArray(species, x, xOff + i).fma(va, FloatVector.fromArray(species, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }
}
