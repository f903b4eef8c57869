package org.routecal.compute;

/**
 * The numeric kernels the forward pass needs, on row-major float arrays. One implementation per backend; the scalar
 * {@code ReferenceOps} is the truth every other backend is tested against (STYLE H4). Implementations are stateless
 * apart from their thread pool and must be safe to call from several threads.
 */
public interface Ops {
    /** Human-readable name for logs and manifests, e.g. "vector(256 bit, 2 threads)". */
    String name();

    /**
     * y = x · Wᵀ (+ bias): x [rows, in], w [out, in] (HF Linear layout), y [rows, out]. bias may be null.
     * y is overwritten.
     */
    void matmulTransposed(float[] x, int rows, int in, float[] w, int out, float[] bias, float[] y);

    /** Dot product of a[aOff, aOff+n) and b[bOff, bOff+n). */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** y[yOff+i] += alpha · x[xOff+i] for i in [0, n). */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /** RMSNorm of each row of x (in place allowed when x == y): y = x / sqrt(mean(x²) + eps) · weight. */
    default void rmsNorm(float[] x, float[] y, int rows, int dim, float[] weight, float eps) {
        for (int r = 0; r < rows; r++) {
            int off = r * dim;
            float ss = dot(x, off, x, off, dim) / dim;
            float inv = (float) (1.0 / Math.sqrt(ss + eps));
            for (int i = 0; i < dim; i++) y[off + i] = weight[i] * (x[off + i] * inv);
        }
    }
}
