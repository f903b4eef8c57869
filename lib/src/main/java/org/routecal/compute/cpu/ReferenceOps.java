package org.routecal.compute.cpu;

import org.routecal.compute.Ops;

/** Plain loops, single thread: the reference the fast backends are tested against. */
public final class ReferenceOps implements Ops {
    @Override public String name() { return "reference"; }

    @Override
    public void matmulTransposed(float[] x, int rows, int in, float[] w, int out, float[] bias, float[] y) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float s = dot(x, r * in, w, o * in, in);
                y[r * out + o] = bias == null ? s : s + bias[o];
            }
        }
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }
}
