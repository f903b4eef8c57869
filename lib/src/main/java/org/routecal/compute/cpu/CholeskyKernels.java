package org.routecal.compute.cpu;

import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Blocked Cholesky factorisation and triangular inverse in double precision, for GPTQ's inverse Hessian. Both work on
 * row-major matrices whose size is padded to a multiple of {@link #BLOCK} ({@link #paddedSize}); the caller embeds its
 * n×n matrix as [[A, 0], [0, I]], whose factor and inverse are [[U, 0], [0, I]], so every update tile is full.
 *
 * <p>Cholesky (A = UᵀU, right-looking, blocks of 64 rows): factor the diagonal block row by row, solve the block row's
 * off-diagonal part (column stripes in parallel), then subtract its Gram matrix from the trailing upper triangle with
 * {@link GramKernels#syrkUpper} — about 90 % of the n³/3 multiply-adds, at tile speed. Inverse (V = U⁻¹, block rows
 * from the bottom): V[I, I] by back substitution, then V[I, after] = −V[I, I]·(U[I, after]·V[after, after]), both
 * products as tiles over column stripes in parallel (V's zero lower triangle bounds the inner dimension, n³/3 in all).
 */
public final class CholeskyKernels {
    /** Block rows per step: a multiple of every tile width (32 doubles at 512 bits) and of the tile rows. */
    public static final int BLOCK = 64;
    private static final VectorSpecies<Double> D = DoubleTiles.D;

    private CholeskyKernels() {}

    /** n rounded up to a multiple of {@link #BLOCK}. */
    public static int paddedSize(int n) {
        return GramKernels.roundUp(Math.max(n, 1), BLOCK);
    }

    /**
     * Overwrites the upper triangle of a ([size, size] row-major, size a multiple of BLOCK) with U, UᵀU = A; the strict
     * lower triangle is scratch. Returns -1, or the first row whose pivot is not positive (its value is left at
     * a[i, i]), in which case a is partly overwritten.
     */
    public static int choleskyUpper(double[] a, int size, ForkJoinPool pool) {
        checkPadded(size);
        for (int k0 = 0; k0 < size; k0 += BLOCK) {
            int k1 = k0 + BLOCK;
            // the diagonal block, row by row: row i -= Σ_{p<i in block} U[p, i]·row p, then / U[i, i]
            for (int i = k0; i < k1; i++) {
                for (int p = k0; p < i; p++) axpy(-a[p * size + i], a, p * size + i, a, i * size + i, k1 - i);
                double pivot = a[i * size + i];
                if (!(pivot > 0)) return i;
                double d = Math.sqrt(pivot);
                a[i * size + i] = d;
                for (int j = i + 1; j < k1; j++) a[i * size + j] /= d;
            }
            if (k1 == size) break;
            // the block row right of the diagonal block: the same triangular solve, column stripes in parallel
            int stripes = (size - k1) / BLOCK, b0 = k0, b1 = k1;
            CpuThreads.forEach(pool, stripes, s -> {
                int j0 = b1 + s * BLOCK;
                for (int i = b0; i < b1; i++) {
                    for (int p = b0; p < i; p++) axpy(-a[p * size + i], a, p * size + j0, a, i * size + j0, BLOCK);
                    double d = a[i * size + i];
                    for (int j = j0; j < j0 + BLOCK; j++) a[i * size + j] /= d;
                }
            });
            // trailing upper triangle -= U[k0:k1, k1:]ᵀ · U[k0:k1, k1:]
            GramKernels.syrkUpper(a, k1 * size + k1, size, size - k1, a, k0 * size + k1, size, BLOCK, -1.0, pool);
        }
        return -1;
    }

    /**
     * V = U⁻¹ for the upper triangle of u ([size, size], size a multiple of BLOCK, positive diagonal); returns V
     * ([size, size], zero strict lower triangle). u's strict lower triangle is ignored.
     */
    public static double[] invertUpper(double[] u, int size, ForkJoinPool pool) {
        checkPadded(size);
        double[] v = new double[size * size];
        double[] t = new double[BLOCK * size]; // T = U[I, after]·V[after, after], [BLOCK, size - i1] with row stride size
        int width = DoubleTiles.WIDTH, rows = DoubleTiles.ROWS;
        for (int i0 = size - BLOCK; i0 >= 0; i0 -= BLOCK) {
            int i1 = i0 + BLOCK;
            // diagonal block by back substitution: V[r, j] = −(Σ_{r<q≤j} U[r, q]·V[q, j]) / U[r, r]
            for (int r = i1 - 1; r >= i0; r--) {
                double d = u[r * size + r];
                v[r * size + r] = 1 / d;
                for (int j = r + 1; j < i1; j++) {
                    double s = 0;
                    for (int q = r + 1; q <= j; q++) s += u[r * size + q] * v[q * size + j];
                    v[r * size + j] = -s / d;
                }
            }
            if (i1 == size) continue;
            int stripes = (size - i1) / width, r0 = i0, r1 = i1;
            java.util.Arrays.fill(t, 0, BLOCK * size, 0.0);
            CpuThreads.forEach(pool, stripes, s -> {
                int j0 = r1 + s * width;
                double[] tmp = new double[D.length()];
                // T[:, j0 …] = U[I, i1 … j0+width) · V[i1 … j0+width), j0 …]: V is zero below its diagonal
                for (int r = 0; r < BLOCK; r += rows) {
                    DoubleTiles.tile(u, (r0 + r) * size + r1, size, 1, v, r1 * size + j0, size, j0 + width - r1,
                            t, 0, size, 1.0, r, j0 - r1, Integer.MAX_VALUE, false, tmp);
                }
                // V[I, j0 …] = −V[I, I] · T[:, j0 …]
                for (int r = 0; r < BLOCK; r += rows) {
                    DoubleTiles.tile(v, (r0 + r) * size + r0, size, 1, t, j0 - r1, size, BLOCK,
                            v, 0, size, -1.0, r0 + r, j0, Integer.MAX_VALUE, false, tmp);
                }
            });
        }
        return v;
    }

    /** y[yOff + i] += alpha · x[xOff + i], i < n. */
    private static void axpy(double alpha, double[] x, int xOff, double[] y, int yOff, int n) {
        int step = D.length(), bound = D.loopBound(n), i = 0;
        DoubleVector va = DoubleVector.broadcast(D, alpha);
        for (; i < bound; i += step) {
            DoubleVector.fromArray(D, x, xOff + i).fma(va, DoubleVector.fromArray(D, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    private static void checkPadded(int size) {
        if (size <= 0 || size % BLOCK != 0) throw new IllegalArgumentException("size " + size + " is not a positive multiple of " + BLOCK);
    }
}
