package org.routecal.compute.cuda;

import org.routecal.compute.cuda.ref.RouterScoring;
import org.routecal.compute.cuda.ref.MoeOps;
import org.routecal.compute.cuda.ref.Numerics;
import org.routecal.compute.cuda.ref.ReferenceMoeOps;

/**
 * {@link MoeOps} on the GPU: each call uploads its inputs, runs our kernels on one stream, waits, and downloads the
 * result. That round trip makes it a correctness path (parity runs, and a first wiring of the model code), not the
 * fast path: the fast path keeps activations on the device and calls {@link CudaKernels} directly, with weights from
 * {@link WeightStreamer}. GEMM operands are rounded to bf16 on the host before upload.
 */
public final class CudaMoeOps implements MoeOps {
    private final CudaContext ctx;
    private final CudaKernels k;
    /** Null: the legacy default stream, which orders our kernels with the synchronous copies and memsets used here. */
    private final CudaStream stream = null;

    private final boolean ownsContext;

    /** @param ownsContext close {@code ctx} when these ops are closed */
    public CudaMoeOps(CudaContext ctx, boolean ownsContext) {
        this.ctx = ctx;
        this.ownsContext = ownsContext;
        this.k = new CudaKernels(ctx);
    }

    @Override
    public String name() { return "cuda"; }

    /** The context these ops run on. */
    public CudaContext context() { return ctx; }

    private void sync(String after) { ctx.synchronize(after); }

    private DeviceBuffer up(float[] a, String name) { return a == null ? null : DeviceBuffer.of(ctx, a, name); }

    private DeviceBuffer up(int[] a, String name) { return a == null ? null : DeviceBuffer.of(ctx, a, name); }

    private DeviceBuffer upBf16(float[] a, String name) {
        short[] s = new short[a.length];
        for (int i = 0; i < a.length; i++) s[i] = (short) Numerics.bf16Bits(a[i]);
        return DeviceBuffer.ofBf16(ctx, s, name);
    }

    private DeviceBuffer alloc(long bytes, String name) { return DeviceBuffer.allocate(ctx, bytes, name); }

    private static void closeAll(DeviceBuffer... bs) {
        for (DeviceBuffer b : bs) if (b != null) b.close();
    }

    @Override
    public float[] rmsnorm(float[] x, int rows, int dim, float[] weight, float eps) {
        DeviceBuffer dx = up(x, "x"), dw = up(weight, "weight"), dy = alloc(4L * rows * dim, "y");
        try {
            k.rmsnorm(dx, dim, dw, dy, dim, rows, dim, eps, false, stream);
            sync("rmsnorm");
            return dy.downloadFloats(rows * dim);
        } finally {
            closeAll(dx, dw, dy);
        }
    }

    @Override
    public void ropeNeox(float[] x, int tokens, int heads, int headDim, int rot, int[] positions, float[] invFreq, float attnScale) {
        DeviceBuffer dx = up(x, "x"), dp = up(positions, "positions"), df = up(invFreq, "inv_freq");
        try {
            k.ropeNeox(dx, heads * headDim, dp, df, tokens, heads, headDim, rot, attnScale, stream);
            sync("rope_neox_f32");
            System.arraycopy(dx.downloadFloats(x.length), 0, x, 0, x.length);
        } finally {
            closeAll(dx, dp, df);
        }
    }

    @Override
    public float[] siluMul(float[] gate, float[] upv, int rows, int inter) {
        DeviceBuffer dg = up(gate, "gate"), du = up(upv, "up"), dout = alloc(4L * rows * inter, "out");
        try {
            k.siluMul(dg, du, inter, dout, rows, inter, false, stream);
            sync("silu_mul_f32");
            return dout.downloadFloats(rows * inter);
        } finally {
            closeAll(dg, du, dout);
        }
    }

    @Override
    public float[] linear(float[] x, int m, int kDim, float[] weight, int n) {
        DeviceBuffer da = upBf16(x, "x"), dw = upBf16(weight, "weight"), dc = alloc(4L * m * n, "y");
        try {
            k.gemmBf16(da, kDim, dw, dc, n, m, n, kDim, false, false, stream);
            sync("gemm_bf16_f32");
            return dc.downloadFloats(m * n);
        } finally {
            closeAll(da, dw, dc);
        }
    }

    @Override
    public TopK routerTopk(float[] logits, int tokens, int experts, int topK, RouterScoring scoring, float[] bias, boolean renormalize,
                           float routedScaling) {
        DeviceBuffer dl = up(logits, "router_logits"), db = up(bias, "e_score_correction_bias");
        DeviceBuffer ids = alloc(4L * tokens * topK, "topk_ids"), w = alloc(4L * tokens * topK, "topk_weights");
        try {
            k.routerTopk(dl, db, tokens, experts, topK, scoring, renormalize, routedScaling, ids, w, stream);
            sync("router_topk");
            return new TopK(tokens, topK, ids.downloadInts(tokens * topK), w.downloadFloats(tokens * topK));
        } finally {
            closeAll(dl, db, ids, w);
        }
    }

    @Override
    public int[] expertHistogram(int[] ids, int experts) {
        DeviceBuffer di = up(ids, "ids"), counts = alloc(4L * experts, "counts");
        try {
            counts.zero();
            k.expertHistogram(di, ids.length, experts, counts, stream);
            sync("expert_histogram");
            return counts.downloadInts(experts);
        } finally {
            closeAll(di, counts);
        }
    }

    @Override
    public float[] moeExperts(float[] x, int tokens, int hidden, TopK routing, float[] gateUp, float[] down, int experts, int inter) {
        int n = tokens * routing.k();
        DeviceBuffer dx = upBf16(x, "hidden_states"), dgu = upBf16(gateUp, "gate_up_proj"), dd = upBf16(down, "down_proj");
        DeviceBuffer ids = up(routing.ids(), "topk_ids"), w = up(routing.weights(), "topk_weights");
        DeviceBuffer counts = alloc(4L * experts, "counts"), offsets = alloc(4L * (experts + 1), "offsets");
        DeviceBuffer sortedToken = alloc(4L * n, "sorted_token"), slotPos = alloc(4L * n, "slot_pos");
        DeviceBuffer gu = alloc(4L * n * 2 * inter, "gate_up_out"), act = alloc(2L * n * inter, "act_bf16");
        DeviceBuffer y = alloc(4L * n * hidden, "expert_out"), out = alloc(4L * tokens * hidden, "moe_out");
        try {
            k.sortByExpert(ids, tokens, routing.k(), experts, counts, offsets, sortedToken, slotPos, stream);
            k.groupedGemmBf16(dx, hidden, sortedToken, offsets, experts, n, dgu, gu, 2 * inter, 2 * inter, hidden, false, false, stream);
            k.siluMul(gu, gu.slice(4L * inter, gu.bytes() - 4L * inter, "up_half"), 2 * inter, act, n, inter, true, stream);
            k.groupedGemmBf16(act, inter, null, offsets, experts, n, dd, y, hidden, hidden, inter, false, false, stream);
            k.moeCombine(y, slotPos, w, tokens, routing.k(), hidden, out, false, stream);
            sync("moe experts (sort, grouped_gemm_bf16_f32, silu_mul_bf16, moe_combine)");
            return out.downloadFloats(tokens * hidden);
        } finally {
            closeAll(dx, dgu, dd, ids, w, counts, offsets, sortedToken, slotPos, gu, act, y, out);
        }
    }

    @Override
    public float[] attentionPrefill(float[] q, float[] kk, float[] v, int[] seqStart, int hq, int hkv, int headDim, float scale) {
        int total = seqStart[seqStart.length - 1];
        DeviceBuffer dq = up(q, "q"), dk = up(kk, "k"), dv = up(v, "v"), ds = up(seqStart, "seq_start");
        DeviceBuffer out = alloc(4L * total * hq * headDim, "attn_out");
        try {
            k.attentionPrefill(dq, hq * headDim, dk, hkv * headDim, dv, hkv * headDim, out, hq * headDim, ds, seqStart.length - 1,
                    total, hq, hkv, headDim, scale, stream);
            sync("attention_prefill_d" + headDim);
            return out.downloadFloats(total * hq * headDim);
        } finally {
            closeAll(dq, dk, dv, ds, out);
        }
    }

    @Override
    public float[] hessian(float[] x, int kDim, int[] offsets, int[] rowIndex, float[] rowWeight, float alpha) {
        int batches = offsets.length - 1;
        DeviceBuffer dx = up(x, "x"), doff = up(offsets, "offsets"), dri = up(rowIndex, "row_index"), drw = up(rowWeight, "row_weight");
        DeviceBuffer h = alloc(4L * batches * kDim * kDim, "hessian");
        try {
            h.zero();
            k.hessianAccumulate(dx, kDim, false, dri, drw, doff, batches, kDim, h, alpha, stream);
            sync("hessian_accumulate_f32");
            return h.downloadFloats(batches * kDim * kDim);
        } finally {
            closeAll(dx, doff, dri, drw, h);
        }
    }

    @Override
    public IntQuant rtnInt(float[] w, int rows, int kDim, int groupSize, int bits, boolean symmetric, boolean roundScaleBf16) {
        int qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1;
        int groups = (kDim + groupSize - 1) / groupSize;
        float eps = roundScaleBf16 ? 0.0078125f : Math.ulp(1f);
        DeviceBuffer dw = up(w, "weight"), sc = alloc(4L * rows * groups, "weight_scale");
        DeviceBuffer zp = symmetric ? null : alloc(4L * rows * groups, "weight_zero_point");
        DeviceBuffer q = alloc((long) rows * kDim, "q"), deq = alloc(4L * rows * kDim, "deq");
        try {
            k.groupScales(dw, rows, kDim, groupSize, symmetric ? ScaleMode.INT_SYMMETRIC : ScaleMode.INT_ASYMMETRIC, qmin, qmax, eps,
                    roundScaleBf16, sc, zp, stream);
            k.quantIntGroups(dw, rows, kDim, groupSize, sc, zp, qmin, qmax, q, deq, stream);
            sync("group_scales + quant_int_groups");
            return new IntQuant(sc.downloadFloats(rows * groups), zp == null ? null : zp.downloadFloats(rows * groups),
                    q.downloadBytes(rows * kDim), deq.downloadFloats(rows * kDim));
        } finally {
            closeAll(dw, sc, zp, q, deq);
        }
    }

    @Override
    public Fp8Quant fp8(float[] w, int rows, int kDim, int groupSize, boolean roundScaleBf16) {
        int groups = (kDim + groupSize - 1) / groupSize;
        float eps = roundScaleBf16 ? 0.0078125f : Math.ulp(1f);
        DeviceBuffer dw = up(w, "weight"), sc = alloc(4L * rows * groups, "weight_scale");
        DeviceBuffer q = alloc((long) rows * kDim, "fp8"), deq = alloc(4L * rows * kDim, "deq");
        try {
            k.groupScales(dw, rows, kDim, groupSize, ScaleMode.FP8, 0, 0, eps, roundScaleBf16, sc, null, stream);
            k.quantFp8Groups(dw, rows, kDim, groupSize, sc, q, deq, stream);
            sync("group_scales + quant_fp8_groups");
            return new Fp8Quant(sc.downloadFloats(rows * groups), q.downloadBytes(rows * kDim), deq.downloadFloats(rows * kDim));
        } finally {
            closeAll(dw, sc, q, deq);
        }
    }

    @Override
    public Nvfp4Quant nvfp4(float[] w, int rows, int kDim) {
        DeviceBuffer dw = up(w, "weight"), amax = alloc(4, "amax");
        DeviceBuffer packed = alloc((long) rows * kDim / 2, "weight_packed"), sc = alloc((long) rows * kDim / 16, "weight_scale");
        DeviceBuffer deq = alloc(4L * rows * kDim, "deq");
        try {
            k.absmax(dw, w.length, amax, stream);
            sync("absmax_f32");
            float a = amax.downloadFloats(1)[0];
            float globalScale = a == 0f ? 1f : 448f * 6f / a;  // compressed-tensors maps the Inf of an all-zero tensor to 1
            packed.zero();
            k.nvfp4Quantize(dw, rows, kDim, globalScale, ReferenceMoeOps.FP8_EPS, packed, sc, deq, stream);
            sync("nvfp4_quantize");
            return new Nvfp4Quant(globalScale, packed.downloadBytes(rows * kDim / 2), sc.downloadBytes(rows * kDim / 16),
                    deq.downloadFloats(rows * kDim));
        } finally {
            closeAll(dw, amax, packed, sc, deq);
        }
    }

    @Override
    public float[][] hinvUpper(float[] h, int batches, int kDim, float dampFraction) {
        DeviceBuffer dh = up(h, "hessian"), work = alloc(4L * h.length, "cholesky work"), u = alloc(4L * h.length, "hinv_upper");
        DeviceBuffer status = alloc(4L * batches, "status");
        try {
            k.hinvUpper(dh, work, u, batches, kDim, dampFraction, status, stream);
            sync("hinv_upper_b1");
            int[] st = status.downloadInts(batches);
            float[] all = u.downloadFloats(h.length);
            float[][] out = new float[batches][];
            for (int b = 0; b < batches; b++) {
                if (st[b] == 0) out[b] = java.util.Arrays.copyOfRange(all, b * kDim * kDim, (b + 1) * kDim * kDim);
            }
            return out;
        } finally {
            closeAll(dh, work, u, status);
        }
    }

    @Override
    public GptqResult gptqSweep(float[] w, int rows, int kDim, float[] hinvUpper, int rowsPerH, float[] scale, float[] zp, int[] gIdx,
                                int groupSize, int qmin, int qmax) {
        DeviceBuffer dw = up(w, "weight"), dh = up(hinvUpper, "hinv"), ds = up(scale, "weight_scale"), dz = up(zp, "weight_zero_point");
        DeviceBuffer dg = up(gIdx, "g_idx"), loss = alloc(4L * rows, "loss");
        try {
            k.gptqSweep(dw, rows, kDim, dh, rowsPerH, ds, dz, dg, groupSize, qmin, qmax, loss, 0, 128, stream);
            sync("gptq_sweep_b32");
            return new GptqResult(dw.downloadFloats(rows * kDim), loss.downloadFloats(rows));
        } finally {
            closeAll(dw, dh, ds, dz, dg, loss);
        }
    }

    @Override
    public void close() {
        if (ownsContext) ctx.close();
    }
}
