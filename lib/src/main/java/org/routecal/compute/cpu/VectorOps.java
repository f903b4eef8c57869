package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.routecal.compute.Ops;

import java.util.concurrent.ForkJoinPool;

/**
 * Vector API kernels behind the {@link Ops} interface: the matmul is {@link MatmulKernels} on this instance's pool;
 * dot and axpy are single-vector loops.
 *
 * <p>The species is a {@code static final} constant chosen once at class initialisation ({@code -Droutecal.vectorBits},
 * default the CPU's preferred width): C2 only intrinsifies Vector API calls whose species it can constant-fold, and an
 * instance field made every FMA fall back to Java code (a 20× slowdown seen in profiles).
 */
public final class VectorOps implements Ops {
    static final VectorSpecies<Float> SPECIES = pickSpecies();
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
        return "vector(" + SPECIES.vectorBitSize() + " bit, " + (pool == null ? 1 : pool.getParallelism()) + " threads)";
    }

    @Override
    public void matmulTransposed(float[] x, int rows, int in, float[] w, int out, float[] bias, float[] y) {
        MatmulKernels.matmulTransposed(x, 0, rows, in, w, 0, out, bias, y, 0, false, pool);
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return MatmulKernels.dot(a, aOff, b, bOff, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        MatmulKernels.axpy(alpha, x, xOff, y, yOff, n);
    }
}
