package org.routecal.compute.cuda;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import org.routecal.compute.Ops;
import org.routecal.compute.cuda.ref.Numerics;

/**
 * The model's {@link Ops} with large matrix products on the GPU: a drop-in for {@code MoeModel.load(dir, ops)} when
 * {@code --device} resolves to CUDA. {@code matmulTransposed} calls above {@link #MIN_GPU_MACS} multiply-adds run our
 * bf16 tensor-core GEMM (weights rounded to bf16 once and kept on the device, keyed by the weight array's identity;
 * activations rounded to bf16 per call; fp32 accumulation), so results equal the CPU backend's within bf16
 * tolerance. Everything else (dot, axpy, norms, small products) runs on the wrapped CPU ops.
 *
 * <p>Weight arrays must not be modified in place after first use; call {@link #forget(float[])} if one is. GPU calls
 * are serialized (one context, one stream); CPU calls stay concurrent. This is the first wiring, not the fast path:
 * activations still cross PCIe on every call — the device-resident pass is {@code bench.RoutingPass}'s layer sequence.
 */
public final class CudaOps implements Ops, AutoCloseable {
    /** Products smaller than this stay on the CPU, where the PCIe round trip would dominate. */
    public static final long MIN_GPU_MACS = 1L << 24;

    private final Ops cpu;
    private final CudaContext ctx;
    private final CudaKernels k;
    private final Map<float[], DeviceBuffer> weights = Collections.synchronizedMap(new IdentityHashMap<>());

    public CudaOps(Ops cpu, CudaContext ctx) {
        this.cpu = cpu;
        this.ctx = ctx;
        this.k = new CudaKernels(ctx);
    }

    @Override
    public String name() { return "cuda(" + ctx.device().deviceName() + ", bf16 GEMM) + " + cpu.name(); }

    @Override
    public void matmulTransposed(float[] x, int rows, int in, float[] w, int out, float[] bias, float[] y) {
        if ((long) rows * in * out < MIN_GPU_MACS || in % 8 != 0) {
            cpu.matmulTransposed(x, rows, in, w, out, bias, y);
            return;
        }
        synchronized (this) {
            ctx.makeCurrent();
            DeviceBuffer dw = weights.computeIfAbsent(w, a -> DeviceBuffer.ofBf16(ctx, toBf16(a, a.length), "weight [" + out + "x" + in + "]"));
            short[] xb = toBf16(x, rows * in);
            try (DeviceBuffer dx = DeviceBuffer.ofBf16(ctx, xb, "x"); DeviceBuffer dy = DeviceBuffer.allocate(ctx, 4L * rows * out, "y")) {
                k.gemmBf16(dx, in, dw, dy, out, rows, out, in, false, false, null);
                ctx.synchronize("gemm_bf16_f32 [" + rows + "x" + in + "]·[" + out + "x" + in + "]ᵀ");
                System.arraycopy(dy.downloadFloats(rows * out), 0, y, 0, rows * out);
            }
        }
        if (bias != null) for (int r = 0; r < rows; r++) for (int o = 0; o < out; o++) y[r * out + o] += bias[o];
    }

    private static short[] toBf16(float[] a, int n) {
        short[] s = new short[n];
        for (int i = 0; i < n; i++) s[i] = (short) Numerics.bf16Bits(a[i]);
        return s;
    }

    /** Drops the cached device copy of a weight array (after the caller changed it in place). */
    public void forget(float[] w) {
        DeviceBuffer b = weights.remove(w);
        if (b != null) b.close();
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) { return cpu.dot(a, aOff, b, bOff, n); }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) { cpu.axpy(alpha, x, xOff, y, yOff, n); }

    @Override
    public void rmsNorm(float[] x, float[] y, int rows, int dim, float[] weight, float eps) { cpu.rmsNorm(x, y, rows, dim, weight, eps); }

    /** Frees the cached weights and closes the context. */
    @Override
    public void close() {
        synchronized (weights) {
            for (DeviceBuffer b : weights.values()) b.close();
            weights.clear();
        }
        ctx.close();
    }
}
