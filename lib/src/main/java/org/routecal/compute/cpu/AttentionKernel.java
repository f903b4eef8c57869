package org.routecal.compute.cpu;

import java.util.Arrays;
import java.util.stream.IntStream;
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
 * <p>{@link #perKey} is its reference (the scalar backend runs it over {@link ReferenceOps}); short query blocks
 * such as decode steps take it too, since packing the keys would cost more than the products. {@link AttentionBench}
 * times both on the same inputs.
 */
final class AttentionKernel {
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

    /** Sequence {@code s} in blocks of queries, on the shared pool (one task per head and block). */
    static void sequence(int s, AttentionLayout l, Operands x) {
        int qLen = l.hostQStart()[s + 1] - l.hostQStart()[s];
        int blocks = (qLen + QUERY_BLOCK - 1) / QUERY_BLOCK;
        CpuThreads.forEach(CpuThreads.sharedPool(), l.heads() * blocks, task -> block(s, task / blocks, task % blocks * QUERY_BLOCK, l, x));
    }

    private static void block(int s, int h, int t0, AttentionLayout l, Operands x) {
        int hd = l.headDim(), vd = l.valueHeadDim(), kvh = h / (l.heads() / l.kvHeads());
        int qStart = l.hostQStart()[s], qLen = l.hostQStart()[s + 1] - qStart;
        int kStart = l.hostKvStart()[s], past = l.hostKvStart()[s + 1] - kStart - qLen;
        int rows = Math.min(QUERY_BLOCK, qLen - t0);
        int kFirst = l.firstKey(past + t0), n = past + t0 + rows - kFirst; // keys [kFirst, past + t0 + rows)

        float[] qb = new float[rows * hd], kt = new float[hd * n], vb = new float[n * vd];
        for (int r = 0; r < rows; r++) System.arraycopy(x.q(), x.qo() + (qStart + t0 + r) * x.qWidth() + h * hd, qb, r * hd, hd);
        for (int j = 0; j < n; j++) {
            int key = kStart + kFirst + j, kr = x.ko() + key * x.kWidth() + kvh * hd;
            for (int d = 0; d < hd; d++) kt[d * n + j] = x.k()[kr + d]; // Kᵀ [hd, n]: S = Q·Kᵀ in outer-product form
            System.arraycopy(x.v(), x.vo() + key * x.vWidth() + kvh * vd, vb, j * vd, vd);
        }
        float[] p = new float[rows * n];                                      // S, then P in place: [rows, n]
        BroadcastTiles.matmul(qb, 0, rows, hd, kt, 0, n, p, 0);

        float[] sum = new float[rows], sinks = x.sinks();
        float scale = l.scale();
        for (int r = 0; r < rows; r++) {
            int pos = past + t0 + r, lo = l.firstKey(pos) - kFirst, hi = pos - kFirst, base = r * n;
            float max = sinks == null ? Float.NEGATIVE_INFINITY : sinks[h];
            for (int j = lo; j <= hi; j++) {
                float sc = p[base + j] * scale;
                p[base + j] = sc;
                max = Math.max(max, sc);
            }
            float total = sinks == null ? 0f : (float) Math.exp(sinks[h] - max);
            for (int j = 0; j < lo; j++) p[base + j] = 0f;
            for (int j = hi + 1; j < n; j++) p[base + j] = 0f;
            for (int j = lo; j <= hi; j++) {
                float e = (float) Math.exp(p[base + j] - max);
                p[base + j] = e;
                total += e;
            }
            sum[r] = total;
        }
        float[] ob = new float[rows * vd];
        BroadcastTiles.matmul(p, 0, rows, n, vb, 0, vd, ob, 0);
        for (int r = 0; r < rows; r++) {
            float inv = 1f / sum[r];
            int dst = x.oo() + (qStart + t0 + r) * x.oWidth() + h * vd;
            for (int d = 0; d < vd; d++) x.out()[dst + d] = ob[r * vd + d] * inv;
        }
    }

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
