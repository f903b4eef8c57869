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

    /** The reference for {@link MatmulKernels}: y (+)= x·Wᵀ + bias, float32 weights, plain loops. */
    public static void matmulTransposed(float[] x, int xOff, int rows, int in, float[] w, int wOff, int out, float[] bias,
                                        float[] y, int yOff, boolean accumulate) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float s = 0f;
                for (int k = 0; k < in; k++) s += x[xOff + r * in + k] * w[wOff + o * in + k];
                if (bias != null) s += bias[o];
                int i = yOff + r * out + o;
                y[i] = accumulate ? y[i] + s : s;
            }
        }
    }

    /** The same with bf16 weights (raw bits): each weight widened to float32 (a bf16 is a float's high half). */
    public static void matmulTransposed(float[] x, int xOff, int rows, int in, short[] wBf16, int wOff, int out, float[] bias,
                                        float[] y, int yOff, boolean accumulate) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float s = 0f;
                for (int k = 0; k < in; k++) s += x[xOff + r * in + k] * Float.intBitsToFloat(wBf16[wOff + o * in + k] << 16);
                if (bias != null) s += bias[o];
                int i = yOff + r * out + o;
                y[i] = accumulate ? y[i] + s : s;
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
