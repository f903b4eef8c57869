package org.routecal.compute.cpu;

import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.routecal.compute.AttentionLayout;
import org.routecal.compute.Ops;

/**
 * Attention of one sequence on the CPU in blocks of query rows, with both products on outer-product register tiles
 * ({@link BroadcastTiles}: the head dim is too narrow for dot-product tiles). For one head
 * and up to {@value #QUERY_BLOCK} consecutive queries: S = Q·Kᵀ over the keys the block can see, each row masked to
 * its own keys (causal, sliding window, chunk), softmax with the head's sink, O = P·V / Σ. The keys a block sees are
 * one contiguous range ({@link AttentionLayout#firstKey} does not decrease with the position), so beyond the block's
 * own triangle nothing is computed and thrown away. It replaces a dot and an axpy per key and query (a horizontal
 * reduction per key), which took a quarter of the forward pass at 512 tokens.
 *
 * <p>Q, V and O are read and written where they lie (the tiles take row strides); K is transposed once per key head
 * and sequence, not per query block. The softmax runs on whole vectors of P's rows (padded to the vector length),
 * hidden keys set to −∞ in the one or two partly visible vectors, with {@link VectorMath#exp} (within 1 ulp of
 * {@code Math.exp}, ~28× faster than scalar {@code Math.exp}, which had taken over half this kernel's time, and the
 * same bits whether the JIT has compiled it or not).
 *
 * <p>{@link #perKey} is its reference (the scalar backend runs it over {@link ReferenceOps}); short query blocks
 * such as decode steps take it too, since packing the keys would cost more than the products. {@link AttentionBench}
 * times both on the same inputs.
 */
final class AttentionKernel {
    private static final VectorSpecies<Float> F = VectorOps.SPECIES;
    private static final int L = F.length();
    /** Query rows per task: S is QUERY_BLOCK × keys floats (8 MB at 32k keys). */
    static final int QUERY_BLOCK = 64;
    /** Sequences with fewer queries take the per-key loop. */
    static final int MIN_QUERIES = 8;

    /** q [T, heads·hd], k [K, kvHeads·hd], v [K, kvHeads·vd], out [T, heads·vd]: arrays with their offsets and row widths. */
    record Operands(float[] q, int qo, int qWidth, float[] k, int ko, int kWidth, float[] v, int vo, int vWidth,
                    float[] out, int oo, int oWidth, float[] sinks) {}

    private AttentionKernel() {}

    /** Every sequence of the layout: blocked when {@code blocked} and the sequence has enough queries, else per key. */
    static void run(Ops ops, boolean blocked, AttentionLayout l, Operands x) {
        for (int s = 0; s < l.sequences(); s++) {
            int qLen = l.hostQStart()[s + 1] - l.hostQStart()[s];
            if (blocked && qLen >= MIN_QUERIES) sequence(s, l, x);
            else perKey(ops, s, l, x);
        }
    }

    /**
     * Sequence {@code s} in blocks of queries, on the shared pool: each key head's Kᵀ [hd, keys] once, then one task per
     * head and block of queries.
     */
    static void sequence(int s, AttentionLayout l, Operands x) {
        int qLen = l.hostQStart()[s + 1] - l.hostQStart()[s], kLen = l.hostKvStart()[s + 1] - l.hostKvStart()[s];
        int hd = l.headDim(), kStart = l.hostKvStart()[s];
        float[][] kt = new float[l.kvHeads()][];
        ForkJoinPool pool = CpuThreads.sharedPool();
        CpuThreads.forEach(pool, l.kvHeads(), kvh -> {
            float[] t = new float[hd * kLen]; // Kᵀ: S = Q·Kᵀ in outer-product form reads keys along vectors
            for (int j = 0; j < kLen; j++) {
                int kr = x.ko() + (kStart + j) * x.kWidth() + kvh * hd;
                for (int d = 0; d < hd; d++) t[d * kLen + j] = x.k()[kr + d];
            }
            kt[kvh] = t;
        });
        int blocks = (qLen + QUERY_BLOCK - 1) / QUERY_BLOCK;
        CpuThreads.forEach(pool, l.heads() * blocks, task -> block(s, task / blocks, task % blocks * QUERY_BLOCK, kt, l, x));
    }

    private static void block(int s, int h, int t0, float[][] kt, AttentionLayout l, Operands x) {
        int hd = l.headDim(), vd = l.valueHeadDim(), kvh = h / (l.heads() / l.kvHeads());
        int qStart = l.hostQStart()[s], qLen = l.hostQStart()[s + 1] - qStart;
        int kStart = l.hostKvStart()[s], kLen = l.hostKvStart()[s + 1] - kStart, past = kLen - qLen;
        int rows = Math.min(QUERY_BLOCK, qLen - t0);
        int kFirst = l.firstKey(past + t0), n = past + t0 + rows - kFirst; // keys [kFirst, past + t0 + rows)
        int ldp = (n + L - 1) / L * L;                                     // P's rows in whole vectors

        float[] p = scratch(rows * ldp);                                     // S, then P in place: [rows, ldp]
        int qOff = x.qo() + (qStart + t0) * x.qWidth() + h * hd;
        BroadcastTiles.matmul(x.q(), qOff, x.qWidth(), rows, hd, kt[kvh], kFirst, kLen, n, p, 0, ldp);

        float[] sinks = x.sinks();
        float scale = l.scale();
        int oOff = x.oo() + (qStart + t0) * x.oWidth() + h * vd;
        float[] inverseSums = new float[rows];
        for (int r = 0; r < rows; r++) {
            int pos = past + t0 + r;
            float sink = sinks == null ? Float.NEGATIVE_INFINITY : sinks[h];
            inverseSums[r] = 1f / softmaxRow(p, r * ldp, ldp, l.firstKey(pos) - kFirst, pos - kFirst, scale, sink);
        }
        int vOff = x.vo() + (kStart + kFirst) * x.vWidth() + kvh * vd;
        BroadcastTiles.matmul(p, 0, ldp, rows, n, x.v(), vOff, x.vWidth(), vd, x.out(), oOff, x.oWidth());
        for (int r = 0; r < rows; r++) {
            FloatVector inv = FloatVector.broadcast(F, inverseSums[r]);
            int o = oOff + r * x.oWidth(), d = 0;
            for (; d + L <= vd; d += L) FloatVector.fromArray(F, x.out(), o + d).mul(inv).intoArray(x.out(), o + d);
            for (; d < vd; d++) x.out()[o + d] *= inverseSums[r];
        }
    }

    /**
     * One row of S [0, ldp) in place: keys [lo, hi] scaled, exp'd relative to their max (and the sink's logit, which
     * joins the sum but keeps no column), every other column 0. Returns the softmax denominator.
     */
    private static float softmaxRow(float[] p, int base, int ldp, int lo, int hi, float scale, float sink) {
        int first = lo / L * L, last = hi / L * L; // the vectors holding keys lo and hi
        FloatVector maxV = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int c = first; c <= last; c += L) {
            FloatVector v = FloatVector.fromArray(F, p, base + c).mul(scale);
            if (c < lo || c + L - 1 > hi) { // a partly visible vector: hidden keys get -∞, so exp gives them 0
                VectorMask<Float> visible = F.indexInRange(c, hi + 1).andNot(F.indexInRange(c, lo));
                v = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY).blend(v, visible);
            }
            v.intoArray(p, base + c);
            maxV = maxV.max(v);
        }
        float max = Math.max(maxV.reduceLanes(VectorOperators.MAX), sink);
        FloatVector maxB = FloatVector.broadcast(F, max), sumV = FloatVector.zero(F);
        for (int c = first; c <= last; c += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, p, base + c).sub(maxB));
            e.intoArray(p, base + c);
            sumV = sumV.add(e);
        }
        Arrays.fill(p, base, base + first, 0f);
        Arrays.fill(p, base + last + L, base + ldp, 0f);
        float sum = 0f; // lane by lane in a fixed order: reduceLanes(ADD) leaves the order to the implementation
        for (int i = 0; i < L; i++) sum += sumV.lane(i);
        return sink == Float.NEGATIVE_INFINITY ? sum : sum + VectorMath.exp(sink - max);
    }

    /** This thread's S/P buffer, grown as needed (a block's P is up to 64 × keys floats; allocating it each time
     *  zeroed megabytes per layer). */
    private static float[] scratch(int size) {
        float[] a = SCRATCH.get();
        if (a.length < size) SCRATCH.set(a = new float[Math.max(size, a.length * 2)]);
        return a;
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    /** Sequence {@code s} one query and head at a time: a dot per key, softmax, an axpy per key (the reference). */
    static void perKey(Ops ops, int s, AttentionLayout l, Operands x) {
        int heads = l.heads(), hd = l.headDim(), vd = l.valueHeadDim(), groups = heads / l.kvHeads();
        int qStart = l.hostQStart()[s], qLen = l.hostQStart()[s + 1] - qStart;
        int kStart = l.hostKvStart()[s], past = l.hostKvStart()[s + 1] - kStart - qLen;
        float[] sinks = x.sinks();
        IntStream.range(0, qLen * heads).parallel().forEach(task -> {
            int t = task / heads, h = task % heads, kvh = h / groups;
            int qOff = x.qo() + (qStart + t) * x.qWidth() + h * hd;
            int last = past + t, first = l.firstKey(last);
            float[] score = new float[last - first + 1];
            float max = sinks == null ? Float.NEGATIVE_INFINITY : sinks[h];
            for (int j = first; j <= last; j++) {
                float sc = ops.dot(x.q(), qOff, x.k(), x.ko() + (kStart + j) * x.kWidth() + kvh * hd, hd) * l.scale();
                score[j - first] = sc;
                max = Math.max(max, sc);
            }
            float sum = sinks == null ? 0f : (float) Math.exp(sinks[h] - max);
            for (int j = 0; j < score.length; j++) { score[j] = (float) Math.exp(score[j] - max); sum += score[j]; }
            int outOff = x.oo() + (qStart + t) * x.oWidth() + h * vd;
            Arrays.fill(x.out(), outOff, outOff + vd, 0f);
            for (int j = first; j <= last; j++) {
                ops.axpy(score[j - first] / sum, x.v(), x.vo() + (kStart + j) * x.vWidth() + kvh * vd, x.out(), outOff, vd);
            }
        });
    }
}
