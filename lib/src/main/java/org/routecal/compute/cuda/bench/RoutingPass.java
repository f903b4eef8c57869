package org.routecal.compute.cuda.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.routecal.compute.cuda.CudaContext;
import org.routecal.compute.cuda.CudaKernels;
import org.routecal.compute.cuda.CudaStream;
import org.routecal.compute.cuda.DeviceBuffer;
import org.routecal.compute.cuda.ref.RouterScoring;

/**
 * A device-resident Qwen3-MoE prefill over batch × seq tokens that records every layer's top-k expert ids — the
 * routing pass — built only from our kernels: input norm, q/k/v GEMMs, per-head q/k norm, RoPE, causal GQA attention,
 * o_proj into the residual, post-attention norm, router GEMM, top-k, sort by expert, grouped gate_up GEMM, SiLU·mul,
 * grouped down GEMM, weighted combine into the residual. Starts from random hidden states (no embedding lookup; the
 * lm_head is not part of a routing pass). Activations stay on the device; weights come per layer from a map of device
 * buffers (resident or streamed).
 */
final class RoutingPass implements AutoCloseable {
    final MoeGeometry g;
    final int batch, seq, tokens, slots;
    private final CudaKernels k;
    private final CudaStream stream;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    final DeviceBuffer x, xn, q, kk, v, attn, attnBf16, logits, topkW, counts, offsets, sortedToken, slotPos, gu, act, y;
    final DeviceBuffer positions, invFreq, seqStart, ids;

    RoutingPass(CudaContext ctx, CudaKernels k, CudaStream stream, MoeGeometry g, int batch, int seq) {
        this.g = g;
        this.batch = batch;
        this.seq = seq;
        this.tokens = batch * seq;
        this.slots = tokens * g.topK();
        this.k = k;
        this.stream = stream;
        long t = tokens;
        x = alloc(ctx, 4 * t * g.hidden(), "hidden_states");                // [T, H] fp32 residual stream
        xn = alloc(ctx, 2 * t * g.hidden(), "normed bf16");                 // [T, H] bf16 GEMM input
        q = alloc(ctx, 4 * t * g.qDim(), "q");                              // [T, Hq·D]
        kk = alloc(ctx, 4 * t * g.kvDim(), "k");                            // [T, Hkv·D]
        v = alloc(ctx, 4 * t * g.kvDim(), "v");
        attn = alloc(ctx, 4 * t * g.qDim(), "attn out");
        attnBf16 = alloc(ctx, 2 * t * g.qDim(), "attn out bf16");
        logits = alloc(ctx, 4 * t * g.experts(), "router_logits");          // [T, E]
        topkW = alloc(ctx, 4L * slots, "topk_weights");
        counts = alloc(ctx, 4L * g.experts(), "expert counts");
        offsets = alloc(ctx, 4L * (g.experts() + 1), "expert offsets");
        sortedToken = alloc(ctx, 4L * slots, "sorted token");
        slotPos = alloc(ctx, 4L * slots, "slot position");
        gu = alloc(ctx, 4L * slots * 2 * g.inter(), "gate_up out");         // [T·k, 2I] fp32
        act = alloc(ctx, 2L * slots * g.inter(), "act bf16");               // [T·k, I] bf16
        y = alloc(ctx, 4L * slots * g.hidden(), "expert out");              // [T·k, H]
        ids = alloc(ctx, 4L * slots * g.layers(), "topk_ids all layers");   // [L, T, k]
        int[] pos = new int[tokens];
        for (int i = 0; i < tokens; i++) pos[i] = i % seq;
        positions = own(DeviceBuffer.of(ctx, pos, "positions"));
        float[] inv = new float[g.headDim() / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = (float) (1.0 / Math.pow(g.ropeTheta(), 2.0 * i / g.headDim()));
        invFreq = own(DeviceBuffer.of(ctx, inv, "inv_freq"));
        int[] starts = new int[batch + 1];
        for (int b = 0; b <= batch; b++) starts[b] = b * seq;
        seqStart = own(DeviceBuffer.of(ctx, starts, "seq_start"));
    }

    private DeviceBuffer alloc(CudaContext ctx, long bytes, String name) { return own(DeviceBuffer.allocate(ctx, bytes, name)); }

    private DeviceBuffer own(DeviceBuffer b) {
        owned.add(b);
        return b;
    }

    /** Random hidden states with unit variance: the input of layer 0. */
    void randomInput(long seed) { k.fillUniform(x, (long) tokens * g.hidden(), false, seed, 1f, stream); }

    /** One decoder layer in place on {@link #x}; writes the layer's top-k ids into {@link #ids}. */
    void layer(int layer, Map<String, DeviceBuffer> w) {
        int h = g.hidden(), t = tokens, hd = g.headDim();
        float eps = 1e-6f;
        k.rmsnorm(x, h, w.get(LayerWeights.IN_NORM), xn, h, t, h, eps, true, stream);
        k.gemmBf16(xn, h, w.get(LayerWeights.Q), q, g.qDim(), t, g.qDim(), h, false, false, stream);
        k.gemmBf16(xn, h, w.get(LayerWeights.K), kk, g.kvDim(), t, g.kvDim(), h, false, false, stream);
        k.gemmBf16(xn, h, w.get(LayerWeights.V), v, g.kvDim(), t, g.kvDim(), h, false, false, stream);
        k.rmsnorm(q, hd, w.get(LayerWeights.Q_NORM), q, hd, t * g.heads(), hd, eps, false, stream);
        k.rmsnorm(kk, hd, w.get(LayerWeights.K_NORM), kk, hd, t * g.kvHeads(), hd, eps, false, stream);
        k.ropeNeox(q, g.qDim(), positions, invFreq, t, g.heads(), hd, hd, 1f, stream);
        k.ropeNeox(kk, g.kvDim(), positions, invFreq, t, g.kvHeads(), hd, hd, 1f, stream);
        k.attentionPrefill(q, g.qDim(), kk, g.kvDim(), v, g.kvDim(), attn, g.qDim(), seqStart, batch, t, g.heads(), g.kvHeads(), hd,
                (float) (1 / Math.sqrt(hd)), stream);
        k.castToBf16(attn, attnBf16, (long) t * g.qDim(), stream);
        k.gemmBf16(attnBf16, g.qDim(), w.get(LayerWeights.O), x, h, t, h, g.qDim(), false, true, stream);
        k.rmsnorm(x, h, w.get(LayerWeights.POST_NORM), xn, h, t, h, eps, true, stream);
        k.gemmBf16(xn, h, w.get(LayerWeights.ROUTER), logits, g.experts(), t, g.experts(), h, false, false, stream);
        DeviceBuffer layerIds = ids.slice(4L * slots * layer, 4L * slots, "topk_ids layer " + layer);
        k.routerTopk(logits, null, t, g.experts(), g.topK(), RouterScoring.SOFTMAX, true, 1f, layerIds, topkW, stream);
        k.sortByExpert(layerIds, t, g.topK(), g.experts(), counts, offsets, sortedToken, slotPos, stream);
        k.groupedGemmBf16(xn, h, sortedToken, offsets, g.experts(), slots, w.get(LayerWeights.GATE_UP), gu, 2 * g.inter(),
                2 * g.inter(), h, false, false, stream);
        k.siluMul(gu, gu.slice(4L * g.inter(), gu.bytes() - 4L * g.inter(), "up half"), 2 * g.inter(), act, slots, g.inter(), true, stream);
        k.groupedGemmBf16(act, g.inter(), null, offsets, g.experts(), slots, w.get(LayerWeights.DOWN), y, h, h, g.inter(), false, false,
                stream);
        k.moeCombine(y, slotPos, topkW, t, g.topK(), h, x, true, stream);
    }

    /** Waits for the stream and copies every layer's top-k ids to the host ([layers, tokens, k]): the routing pass's output. */
    int[] downloadIds(CudaStream s) {
        s.synchronize();
        return ids.downloadInts(slots * g.layers());
    }

    @Override
    public void close() {
        for (DeviceBuffer b : owned) b.close();
    }
}
