package org.routecal.compute.cuda.ref;

import org.routecal.compute.cuda.ref.MoeOps;
import org.routecal.compute.cuda.ref.RouterScoring;

/**
 * Plain-loop fp32 reference for every kernel in {@code cuda/} (STYLE H4): the same math in the most obvious form, with
 * double accumulation where a sum is long. This is what the GPU parity run compares against, and its own correctness
 * is pinned by fixtures from torch / HF transformers (tests/gpu/make_ref_fixtures.py).
 */
public final class ReferenceMoeOps implements MoeOps {
    @Override
    public String name() { return "reference"; }

    @Override
    public float[] rmsnorm(float[] x, int rows, int dim, float[] weight, float eps) {
        float[] y = new float[rows * dim];  // [rows, dim]
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[r * dim + i] * x[r * dim + i];
            float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
            for (int i = 0; i < dim; i++) y[r * dim + i] = weight[i] * (x[r * dim + i] * inv);
        }
        return y;
    }

    @Override
    public void ropeNeox(float[] x, int tokens, int heads, int headDim, int rot, int[] positions, float[] invFreq, float attnScale) {
        int half = rot / 2;
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    float theta = positions[t] * invFreq[i];  // fp32 product, as HF forms freqs
                    float c = (float) Math.cos(theta) * attnScale, s = (float) Math.sin(theta) * attnScale;
                    float x1 = x[base + i], x2 = x[base + i + half];
                    x[base + i] = x1 * c - x2 * s;
                    x[base + i + half] = x2 * c + x1 * s;
                }
            }
        }
    }

    @Override
    public float[] siluMul(float[] gate, float[] up, int rows, int inter) {
        float[] out = new float[rows * inter];
        for (int i = 0; i < out.length; i++) {
            float g = gate[i];
            out[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
        }
        return out;
    }

    @Override
    public float[] linear(float[] x, int m, int k, float[] weight, int n) {
        float[] y = new float[m * n];  // [m, n]
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int c = 0; c < k; c++) acc += (double) x[i * k + c] * weight[j * k + c];
                y[i * n + j] = (float) acc;
            }
        }
        return y;
    }

    @Override
    public TopK routerTopk(float[] logits, int tokens, int experts, int k, RouterScoring scoring, float[] bias, boolean renormalize,
                           float routedScaling) {
        int[] ids = new int[tokens * k];
        float[] weights = new float[tokens * k];
        float[] score = new float[experts], choice = new float[experts];
        for (int t = 0; t < tokens; t++) {
            if (scoring == RouterScoring.SOFTMAX) {
                float m = Float.NEGATIVE_INFINITY;
                for (int e = 0; e < experts; e++) m = Math.max(m, logits[t * experts + e]);
                double sum = 0;
                for (int e = 0; e < experts; e++) {
                    score[e] = (float) Math.exp(logits[t * experts + e] - m);
                    sum += score[e];
                }
                for (int e = 0; e < experts; e++) {
                    score[e] = (float) (score[e] / sum);
                    choice[e] = score[e];
                }
            } else {
                for (int e = 0; e < experts; e++) {
                    score[e] = (float) (1.0 / (1.0 + Math.exp(-logits[t * experts + e])));
                    choice[e] = score[e] + (bias != null ? bias[e] : 0f);
                }
            }
            boolean[] taken = new boolean[experts];
            double wsum = 0;
            for (int r = 0; r < k; r++) {
                int best = -1;
                for (int e = 0; e < experts; e++) {  // strict '>' keeps the lower index on ties
                    if (!taken[e] && !Float.isNaN(choice[e]) && (best < 0 || choice[e] > choice[best])) best = e;
                }
                taken[best] = true;
                ids[t * k + r] = best;
                weights[t * k + r] = score[best];
                wsum += score[best];
            }
            double norm = renormalize ? 1.0 / (scoring == RouterScoring.SIGMOID ? wsum + 1e-20 : wsum) : 1.0;
            for (int r = 0; r < k; r++) weights[t * k + r] = (float) (weights[t * k + r] * norm * routedScaling);
        }
        return new TopK(tokens, k, ids, weights);
    }

    @Override
    public int[] expertHistogram(int[] ids, int experts) {
        int[] counts = new int[experts];
        for (int e : ids) if (e >= 0 && e < experts) counts[e]++;
        return counts;
    }

    @Override
    public float[] moeExperts(float[] x, int tokens, int hidden, TopK routing, float[] gateUp, float[] down, int experts, int inter) {
        float[] out = new float[tokens * hidden];
        float[] xt = new float[hidden];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(x, t * hidden, xt, 0, hidden);
            for (int j = 0; j < routing.k(); j++) {
                int e = routing.ids()[t * routing.k() + j];
                float w = routing.weights()[t * routing.k() + j];
                float[] act = new float[inter];
                long gu = (long) e * 2 * inter * hidden;
                for (int i = 0; i < inter; i++) {
                    double g = 0, u = 0;
                    for (int c = 0; c < hidden; c++) {
                        g += (double) gateUp[(int) (gu + (long) i * hidden + c)] * xt[c];
                        u += (double) gateUp[(int) (gu + (long) (inter + i) * hidden + c)] * xt[c];
                    }
                    float gf = (float) g;
                    act[i] = (float) (gf / (1.0 + Math.exp(-gf))) * (float) u;
                }
                long dn = (long) e * hidden * inter;
                for (int h = 0; h < hidden; h++) {
                    double acc = 0;
                    for (int i = 0; i < inter; i++) acc += (double) down[(int) (dn + (long) h * inter + i)] * act[i];
                    out[t * hidden + h] += w * (float) acc;
                }
            }
        }
        return out;
    }

    @Override
    public float[] attentionPrefill(float[] q, float[] k, float[] v, int[] seqStart, int hq, int hkv, int headDim, float scale) {
        int total = seqStart[seqStart.length - 1];
        float[] out = new float[total * hq * headDim];
        int group = hq / hkv;
        for (int s = 0; s + 1 < seqStart.length; s++) {
            int begin = seqStart[s], end = seqStart[s + 1];
            for (int h = 0; h < hq; h++) {
                int hk = h / group;
                for (int i = begin; i < end; i++) {
                    double[] p = new double[i - begin + 1];
                    double m = Double.NEGATIVE_INFINITY;
                    for (int j = begin; j <= i; j++) {
                        double dot = 0;
                        for (int d = 0; d < headDim; d++) {
                            dot += (double) q[(i * hq + h) * headDim + d] * k[(j * hkv + hk) * headDim + d];
                        }
                        p[j - begin] = dot * scale;
                        m = Math.max(m, p[j - begin]);
                    }
                    double sum = 0;
                    for (int j = 0; j < p.length; j++) {
                        p[j] = Math.exp(p[j] - m);
                        sum += p[j];
                    }
                    for (int d = 0; d < headDim; d++) {
                        double acc = 0;
                        for (int j = begin; j <= i; j++) acc += p[j - begin] * v[(j * hkv + hk) * headDim + d];
                        out[(i * hq + h) * headDim + d] = (float) (acc / sum);
                    }
                }
            }
        }
        return out;
    }

    @Override
    public float[] hessian(float[] x, int kDim, int[] offsets, int[] rowIndex, float[] rowWeight, float alpha) {
        int batches = offsets.length - 1;
        float[] h = new float[batches * kDim * kDim];  // [batches, k, k]
        for (int b = 0; b < batches; b++) {
            for (int i = 0; i < kDim; i++) {
                for (int j = 0; j < kDim; j++) {
                    double acc = 0;
                    for (int r = offsets[b]; r < offsets[b + 1]; r++) {
                        int src = rowIndex != null ? rowIndex[r] : r;
                        double wgt = rowWeight != null ? rowWeight[r] : 1.0;
                        acc += wgt * x[src * kDim + i] * x[src * kDim + j];
                    }
                    h[(b * kDim + i) * kDim + j] = (float) (alpha * acc);
                }
            }
        }
        return h;
    }

    @Override
    public IntQuant rtnInt(float[] w, int rows, int kDim, int groupSize, int bits, boolean symmetric, boolean roundScaleBf16) {
        int qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1;
        int groups = (kDim + groupSize - 1) / groupSize;
        float[] scale = new float[rows * groups];
        float[] zp = symmetric ? null : new float[rows * groups];
        float eps = roundScaleBf16 ? 0.0078125f : Math.ulp(1f);  // finfo(scale dtype).eps: bf16 or fp32
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
                for (int c = g * groupSize; c < Math.min(kDim, (g + 1) * groupSize); c++) {
                    lo = Math.min(lo, w[r * kDim + c]);
                    hi = Math.max(hi, w[r * kDim + c]);
                }
                int gi = r * groups + g;
                if (symmetric) {
                    scale[gi] = finishScale(Math.max(Math.abs(lo), Math.abs(hi)) / ((qmax - qmin) / 2f), eps, roundScaleBf16);
                } else {
                    lo = Math.min(lo, 0f);
                    hi = Math.max(hi, 0f);
                    scale[gi] = finishScale((hi - lo) / (float) (qmax - qmin), eps, roundScaleBf16);
                    zp[gi] = Math.min(Math.max((float) Math.rint(qmin - lo / scale[gi]), qmin), qmax);
                }
            }
        }
        byte[] q = new byte[rows * kDim];
        float[] deq = new float[rows * kDim];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < kDim; c++) {
                int gi = r * groups + c / groupSize;
                float z = zp != null ? zp[gi] : 0f;
                float v = (float) Math.rint(Math.min(Math.max(w[r * kDim + c] / scale[gi] + z, qmin), qmax));
                q[r * kDim + c] = (byte) (int) v;
                deq[r * kDim + c] = (v - z) * scale[gi];
            }
        }
        return new IntQuant(scale, zp, q, deq);
    }

    private static float finishScale(float s, float eps, boolean roundBf16) {
        if (roundBf16) s = Numerics.roundBf16(s);
        return s == 0f ? eps : s;
    }

    @Override
    public Fp8Quant fp8(float[] w, int rows, int kDim, int groupSize, boolean roundScaleBf16) {
        int groups = (kDim + groupSize - 1) / groupSize;
        float eps = roundScaleBf16 ? 0.0078125f : Math.ulp(1f);
        float[] scale = new float[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                float amax = 0f;
                for (int c = g * groupSize; c < Math.min(kDim, (g + 1) * groupSize); c++) amax = Math.max(amax, Math.abs(w[r * kDim + c]));
                scale[r * groups + g] = finishScale(amax / 448f, eps, roundScaleBf16);
            }
        }
        byte[] codes = new byte[rows * kDim];
        float[] deq = new float[rows * kDim];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < kDim; c++) {
                float s = scale[r * groups + c / groupSize];
                int code = Numerics.fp8e4m3Code(Math.min(Math.max(w[r * kDim + c] / s, -448f), 448f));
                codes[r * kDim + c] = (byte) code;
                deq[r * kDim + c] = Numerics.fp8e4m3Value(code) * s;
            }
        }
        return new Fp8Quant(scale, codes, deq);
    }

    /** FP8 eps used when a group's scale would be zero (finfo(float8_e4m3fn).eps). */
    public static final float FP8_EPS = 0.125f;

    @Override
    public Nvfp4Quant nvfp4(float[] w, int rows, int kDim) {
        float amax = 0f;
        for (float v : w) amax = Math.max(amax, Math.abs(v));
        float globalScale = amax == 0f ? 1f : 448f * 6f / amax;
        int groups = kDim / 16;
        byte[] packed = new byte[rows * kDim / 2];
        byte[] scaleCodes = new byte[rows * groups];
        float[] deq = new float[rows * kDim];
        for (int gi = 0; gi < rows * groups; gi++) {
            int base = gi * 16;
            float ga = 0f;
            for (int c = 0; c < 16; c++) ga = Math.max(ga, Math.abs(w[base + c]));
            int sc = Numerics.fp8e4m3Code(Math.min(globalScale * ga / 6f, 448f));
            float sg = Numerics.fp8e4m3Value(sc);
            if (sg == 0f) {
                sc = Numerics.fp8e4m3Code(FP8_EPS);
                sg = Numerics.fp8e4m3Value(sc);
            }
            scaleCodes[gi] = (byte) sc;
            float s = sg / globalScale;
            for (int c = 0; c < 16; c++) {
                float x = w[base + c] / s;
                int mag = Numerics.fp4Code(Math.abs(x));
                int code = mag | (x < 0 && mag != 0 ? 8 : 0);
                deq[base + c] = (x < 0 ? -1f : 1f) * Numerics.FP4_VALUES[mag] * s;
                int byteIndex = (base + c) / 2;
                packed[byteIndex] |= (byte) (c % 2 == 0 ? code : code << 4);
            }
        }
        return new Nvfp4Quant(globalScale, packed, scaleCodes, deq);
    }

    @Override
    public float[][] hinvUpper(float[] h, int batches, int kDim, float dampFraction) {
        float[][] out = new float[batches][];
        for (int b = 0; b < batches; b++) {
            float[] hb = java.util.Arrays.copyOfRange(h, b * kDim * kDim, (b + 1) * kDim * kDim);
            try {
                out[b] = HessianInverse.upperCholeskyOfInverse(hb, kDim, dampFraction);
            } catch (org.routecal.RoutecalException notPositiveDefinite) {
                out[b] = null;
            }
        }
        return out;
    }

    @Override
    public GptqResult gptqSweep(float[] w, int rows, int kDim, float[] hinvUpper, int rowsPerH, float[] scale, float[] zp, int[] gIdx,
                                int groupSize, int qmin, int qmax) {
        return gptqSweep(w, rows, kDim, hinvUpper, rowsPerH, scale, zp, gIdx, groupSize, qmin, qmax, 0, 128);
    }

    /**
     * The sweep as gptq_sweep.cu and the host solver compute it: immediate updates inside blocks of {@code block}
     * columns, one summed update past them (the sum formed in column order first), products and sums rounded
     * separately; qRound 1/2 rounds dequantized values to bf16/fp16.
     */
    public GptqResult gptqSweep(float[] w, int rows, int kDim, float[] hinvUpper, int rowsPerH, float[] scale, float[] zp, int[] gIdx,
                                int groupSize, int qmin, int qmax, int qRound, int block) {
        int groups = (kDim + groupSize - 1) / groupSize;
        float[] out = w.clone();
        float[] loss = new float[rows];
        float[] err = new float[block];
        for (int r = 0; r < rows; r++) {
            int m = rowsPerH > 0 ? r / rowsPerH : 0, hBase = m * kDim * kDim, row = r * kDim;
            for (int i1 = 0; i1 < kDim; i1 += block) {
                int i2 = Math.min(kDim, i1 + block);
                for (int i = i1; i < i2; i++) {
                    // one column-group map per matrix when rows are split between Hessians (gptq_sweep.cu's layout)
                    int g = gIdx != null ? gIdx[(rowsPerH > 0 ? m * kDim : 0) + i] : i / groupSize;
                    float s = scale[r * groups + g], z = zp != null ? zp[r * groups + g] : 0f;
                    float x = out[row + i];
                    float q = ((float) Math.rint(Math.max(qmin, Math.min(qmax, x / s + z))) - z) * s;
                    if (qRound == 1) q = Numerics.roundBf16(q);
                    float d = hinvUpper[hBase + i * kDim + i], e = (x - q) / d;
                    loss[r] += e * e * 0.5f;
                    out[row + i] = q;
                    err[i - i1] = e;
                    for (int j = i + 1; j < i2; j++) out[row + j] -= e * hinvUpper[hBase + i * kDim + j];
                }
                for (int j = i2; j < kDim; j++) {
                    float acc = 0f;
                    for (int c = 0; c < i2 - i1; c++) acc += err[c] * hinvUpper[hBase + (i1 + c) * kDim + j];
                    out[row + j] -= acc;
                }
            }
        }
        return new GptqResult(out, loss);
    }
}
