package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Gated activations of one row, [gate | up] → act(gate)·up: SiLU (SwiGLU) and GPT-OSS's clamped SwiGLU. The plain
 * forms compute the sigmoid in double (the scalar backend's reference); the vector forms in float with
 * {@link VectorMath#exp} (within 1 ulp of {@code Math.exp}, the same bits compiled or not), as PyTorch's CPU kernels
 * compute in float: scalar {@code Math.exp} cost ~14 ns a value, a routed layer's activation ~3 % of a forward pass.
 */
final class ActivationKernels {
    private static final VectorSpecies<Float> F = VectorOps.SPECIES;
    private static final int L = F.length();

    private ActivationKernels() {}

    /** out[ob, ob + inter) = silu(g[gb + i]) · g[gb + inter + i], from element {@code from} on, in double. */
    static void siluMulPlain(float[] g, int gb, float[] o, int ob, int inter, int from) {
        for (int i = from; i < inter; i++) {
            float a = g[gb + i];
            o[ob + i] = (float) (a / (1.0 + Math.exp(-a))) * g[gb + inter + i];
        }
    }

    static void siluMulVector(float[] g, int gb, float[] o, int ob, int inter) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        int i = 0;
        for (; i + L <= inter; i += L) {
            FloatVector a = FloatVector.fromArray(F, g, gb + i), up = FloatVector.fromArray(F, g, gb + inter + i);
            a.div(one.add(VectorMath.exp(a.neg()))).mul(up).intoArray(o, ob + i);
        }
        siluMulPlain(g, gb, o, ob, inter, i);
    }

    /** GPT-OSS: gate clamped above at limit, up to ±limit, out = (up + 1) · gate · σ(alpha · gate); in double. */
    static void clampedSwigluPlain(float[] g, int gb, float[] o, int ob, int inter, float alpha, float limit, int from) {
        for (int i = from; i < inter; i++) {
            float gate = Math.min(g[gb + i], limit), up = Math.max(-limit, Math.min(limit, g[gb + inter + i]));
            float glu = gate * (float) (1.0 / (1.0 + Math.exp(-(double) (alpha * gate))));
            o[ob + i] = (up + 1f) * glu;
        }
    }

    static void clampedSwigluVector(float[] g, int gb, float[] o, int ob, int inter, float alpha, float limit) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        int i = 0;
        for (; i + L <= inter; i += L) {
            FloatVector gate = FloatVector.fromArray(F, g, gb + i).min(limit);
            FloatVector up = FloatVector.fromArray(F, g, gb + inter + i).min(limit).max(-limit);
            FloatVector glu = gate.div(one.add(VectorMath.exp(gate.mul(-alpha))));
            up.add(one).mul(glu).intoArray(o, ob + i);
        }
        clampedSwigluPlain(g, gb, o, ob, inter, alpha, limit, i);
    }
}
