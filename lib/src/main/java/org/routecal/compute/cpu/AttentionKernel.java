package org.routecal.compute.cpu;

import org.routecal.compute.AttentionLayout;

/**
 * Attention of one sequence on the CPU in blocks of query rows, with both products on the matmul kernels. For one head
 * and up to {@value #QUERY_BLOCK} consecutive queries: S = Q·Kᵀ over the keys the block can see, each row masked to
 * its own keys (causal, sliding window, chunk), softmax with the head's sink, O = P·V / Σ. The keys a block sees are
 * one contiguous range ({@link AttentionLayout#firstKey} does not decrease with the position), so beyond the block's
 * own triangle nothing is computed and thrown away. It replaces a dot and an axpy per key and query (a horizontal
 * reduction per key), which took a quarter of the forward pass at 512 tokens.
 *
 * <p>The per-key loop in {@link CpuBackend#attention} is its reference (over {@link ReferenceOps}, and for short
 * query blocks such as decode steps, where packing the keys would cost more than the products).
 */
final class AttentionKernel {
    /** Query rows per task: S is QUERY_BLOCK × keys floats (8 MB at 32k keys). */
    static final int QUERY_BLOCK = 64;
    /**
     * Sequences with fewer queries take the per-key loop; {@code -Droutecal.attention=per-key} sends every sequence
     * there (for measurements).
     */
    static final int MIN_QUERIES = "per-key".equals(System.getProperty("routecal.attention")) ? Integer.MAX_VALUE : 8;

    private AttentionKernel() {}

    /**
     * Sequence {@code s} of the layout: q [T, heads·hd], k [K, kvHeads·hd], v [K, kvHeads·vd] → out [T, heads·vd], each
     * array addressed from its offset with its row width.
     */
    static void sequence(int s, AttentionLayout l, float[] q, int qo, int qWidth, float[] k, int ko, int kWidth,
                         float[] v, int vo, int vWidth, float[] out, int oo, int oWidth, float[] sinks) {
        int qLen = l.hostQStart()[s + 1] - l.hostQStart()[s];
        int blocks = (qLen + QUERY_BLOCK - 1) / QUERY_BLOCK;
        CpuThreads.forEach(CpuThreads.sharedPool(), l.heads() * blocks, task ->
                block(s, task / blocks, task % blocks * QUERY_BLOCK, l, q, qo, qWidth, k, ko, kWidth, v, vo, vWidth, out, oo, oWidth, sinks));
    }

    private static void block(int s, int h, int t0, AttentionLayout l, float[] q, int qo, int qWidth, float[] k, int ko, int kWidth,
                              float[] v, int vo, int vWidth, float[] out, int oo, int oWidth, float[] sinks) {
        int hd = l.headDim(), vd = l.valueHeadDim(), kvh = h / (l.heads() / l.kvHeads());
        int qStart = l.hostQStart()[s], qLen = l.hostQStart()[s + 1] - qStart;
        int kStart = l.hostKvStart()[s], past = l.hostKvStart()[s + 1] - kStart - qLen;
        int rows = Math.min(QUERY_BLOCK, qLen - t0);
        int kFirst = l.firstKey(past + t0), n = past + t0 + rows - kFirst; // keys [kFirst, past + t0 + rows)

        float[] qb = new float[rows * hd], kb = new float[n * hd], vt = new float[vd * n];
        for (int r = 0; r < rows; r++) System.arraycopy(q, qo + (qStart + t0 + r) * qWidth + h * hd, qb, r * hd, hd);
        for (int j = 0; j < n; j++) {
            int key = kStart + kFirst + j;
            System.arraycopy(k, ko + key * kWidth + kvh * hd, kb, j * hd, hd);
            int vr = vo + key * vWidth + kvh * vd;
            for (int d = 0; d < vd; d++) vt[d * n + j] = v[vr + d]; // Vᵀ [vd, n]: the weight layout of the second product
        }
        float[] p = new float[rows * n];                                      // S, then P in place: [rows, n]
        MatmulKernels.matmulTransposed(qb, 0, rows, hd, kb, 0, n, null, p, 0, false, null);

        float[] sum = new float[rows];
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
        MatmulKernels.matmulTransposed(p, 0, rows, n, vt, 0, vd, null, ob, 0, false, null);
        for (int r = 0; r < rows; r++) {
            float inv = 1f / sum[r];
            int dst = oo + (qStart + t0 + r) * oWidth + h * vd;
            for (int d = 0; d < vd; d++) out[dst + d] = ob[r * vd + d] * inv;
        }
    }
}
