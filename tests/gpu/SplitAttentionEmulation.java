import java.util.Random;

/**
 * The arithmetic of attention_prefill.cu's variant 2 (tensor cores, split bf16 operands) emulated on the CPU, against
 * an fp64 reference, beside the first tensor-core version that rounded q, k and v to bf16: a check of the numerical
 * design before (and apart from) the kernel's GPU parity. Products of bf16 values are exact in fp32, as on the tensor
 * cores; sums are fp32 in the kernel's order (tiles of 64 keys, online softmax in the log2 domain, lo terms first).
 *
 * <pre>java tests/gpu/SplitAttentionEmulation.java      # prints both NMSEs (2026-12-05: 2.7e-11 and 6.5e-6)</pre>
 */
public class SplitAttentionEmulation {
    static float bf16(float f) {
        int b = Float.floatToRawIntBits(f);
        return Float.intBitsToFloat(((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16);
    }

    public static void main(String[] args) {
        int tokens = 300, dim = 128;
        Random r = new Random(1);
        double scale = 1 / Math.sqrt(dim);
        float log2Scale = (float) (scale * 1.4426950408889634);
        float[][] q = new float[tokens][dim], k = new float[tokens][dim], v = new float[tokens][dim];
        for (int i = 0; i < tokens; i++)
            for (int d = 0; d < dim; d++) {
                q[i][d] = (float) r.nextGaussian();
                k[i][d] = (float) r.nextGaussian();
                v[i][d] = (float) r.nextGaussian();
            }
        double errSplit = 0, errRounded = 0, norm = 0;
        for (int i = 0; i < tokens; i++) {
            double[] ref = reference(q, k, v, i, scale);
            float[] split = emulate(q, k, v, i, log2Scale, true), rounded = emulate(q, k, v, i, log2Scale, false);
            for (int d = 0; d < dim; d++) {
                errSplit += Math.pow(split[d] - ref[d], 2);
                errRounded += Math.pow(rounded[d] - ref[d], 2);
                norm += ref[d] * ref[d];
            }
        }
        System.out.printf("split bf16 operands: NMSE %.3e; q, k, v rounded to bf16: NMSE %.3e%n", errSplit / norm, errRounded / norm);
    }

    /** Causal attention of query i in fp64. */
    static double[] reference(float[][] q, float[][] k, float[][] v, int i, double scale) {
        int dim = q[0].length;
        double[] s = new double[i + 1];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = 0; j <= i; j++) {
            double x = 0;
            for (int d = 0; d < dim; d++) x += (double) q[i][d] * k[j][d];
            s[j] = x * scale;
            max = Math.max(max, s[j]);
        }
        double[] o = new double[dim];
        for (int j = 0; j <= i; j++) {
            double p = Math.exp(s[j] - max);
            sum += p;
            for (int d = 0; d < dim; d++) o[d] += p * v[j][d];
        }
        for (int d = 0; d < dim; d++) o[d] /= sum;
        return o;
    }

    /** Query i as the kernel computes it: split = hi + lo terms (variant 2), else every operand rounded (its first version). */
    static float[] emulate(float[][] q, float[][] k, float[][] v, int i, float log2Scale, boolean split) {
        int dim = q[0].length;
        float[] o = new float[dim];
        float m = Float.NEGATIVE_INFINITY, l = 0;
        for (int kt = 0; kt <= i; kt += 64) {
            int end = Math.min(i, kt + 63);
            float[] s = new float[end - kt + 1];
            float mx = Float.NEGATIVE_INFINITY;
            for (int j = kt; j <= end; j++) {
                float x = 0;
                for (int d = 0; d < dim; d++) {
                    float qh = bf16(q[i][d]), ql = bf16(q[i][d] - qh), kh = bf16(k[j][d]), kl = bf16(k[j][d] - kh);
                    if (split) {
                        x += ql * kh;
                        x += qh * kl;
                    }
                    x += qh * kh;
                }
                s[j - kt] = x * log2Scale;
                mx = Math.max(mx, s[j - kt]);
            }
            float mNew = Math.max(m, mx), corr = (float) Math.pow(2, m - mNew);
            m = mNew;
            l *= corr;
            for (int d = 0; d < dim; d++) o[d] *= corr;
            for (int j = kt; j <= end; j++) {
                float p = (float) Math.pow(2, s[j - kt] - m);
                l += p;
                float ph = bf16(p), pl = bf16(p - ph);
                for (int d = 0; d < dim; d++) {
                    float vh = bf16(v[j][d]), vl = bf16(v[j][d] - vh);
                    o[d] += pl * vh;
                    if (split) o[d] += ph * vl;
                    o[d] += ph * vh;
                }
            }
        }
        for (int d = 0; d < dim; d++) o[d] /= l;
        return o;
    }
}
