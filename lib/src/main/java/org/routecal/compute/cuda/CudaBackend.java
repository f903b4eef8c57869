package org.routecal.compute.cuda;

import org.routecal.compute.cuda.ref.RouterScoring;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import org.routecal.RoutecalException;
import org.routecal.compute.AttentionLayout;
import org.routecal.compute.Backend;
import org.routecal.compute.DeviceInfo;
import org.routecal.compute.ExpertGroups;
import org.routecal.compute.Precision;
import org.routecal.compute.SolverOps;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.compute.Router;
import org.routecal.compute.RouterRule;

/**
 * The GPU {@link Backend}: tensors in device memory, ops as our PTX kernels queued in order on the legacy default
 * stream (so synchronous copies are ordered with the kernels), activations never leave the device unless downloaded.
 * Temporary tensors come from an exact-size {@link DevicePool}, because cuMemAlloc/cuMemFree synchronize the device.
 *
 * <p>Numerics ({@link Precision}): BF16 rounds the activation operand of every product to bf16 and runs the
 * tensor-core GEMMs with fp32 accumulation; FP32 runs fp32 GEMMs on CUDA cores. Norms, RoPE, attention, softmax,
 * router and the residual stream are fp32 in both. Router rules the kernel does not cover (grouped top-k, more than
 * 256 experts or k > 8) are applied on the host from the downloaded logits.
 */
public final class CudaBackend implements Backend, SolverOps {
    private final CudaContext ctx;
    private final CudaKernels k;
    private final Precision precision;
    private final DeviceInfo device;
    private final DevicePool pool;
    private final CudaStream stream = null; // legacy default stream: every op and copy in issue order
    private final Map<float[], DeviceBuffer> constants = new IdentityHashMap<>(); // e.g. RoPE inverse frequencies
    private final Map<Tensor, Tensor> widened = new IdentityHashMap<>();       // bf16 weights widened for K % 8 != 0

    private CudaBackend(CudaContext ctx, Precision precision, String reason) {
        this.ctx = ctx;
        this.k = new CudaKernels(ctx);
        this.precision = precision;
        this.pool = new DevicePool(ctx);
        CudaAvailability.Probe p = ctx.device();
        this.device = new DeviceInfo("cuda", p.deviceName() + " (sm_" + p.ccMajor() + p.ccMinor() + ")" + (ctx.ordinal() > 0 ? " #" + ctx.ordinal() : ""),
                "CUDA driver API " + p.driverVersion(), p.totalMemoryBytes(), 0, reason);
    }

    /** Opens device 0; a {@link RoutecalException} names the cause when CUDA is not usable. */
    public static CudaBackend open(Precision precision, String reason) { return open(precision, reason, 0); }

    /** Opens device {@code ordinal}; a {@link RoutecalException} names the cause when it is not usable. */
    public static CudaBackend open(Precision precision, String reason, int ordinal) {
        try {
            return new CudaBackend(CudaContext.open(ordinal), precision, reason);
        } catch (CudaException e) {
            throw new RoutecalException("--device cuda: " + e.getMessage(), e);
        }
    }

    public CudaContext context() { return ctx; }

    public CudaKernels kernels() { return k; }

    @Override public String name() { return "cuda(" + device.name() + ", " + precision.id() + ")"; }

    @Override public DeviceInfo device() { return device; }

    @Override public Precision precision() { return precision; }

    // ---- storage ---------------------------------------------------------------------------------------------------

    /** The device memory of a tensor (a view into its owner's allocation). */
    static DeviceBuffer buf(Tensor t) {
        if (t == null) return null;
        DeviceBuffer owner = (DeviceBuffer) t.storage();
        long byteOffset = t.offset() * t.type().bytes();
        if (byteOffset == 0 && t.bytes() == owner.bytes()) return owner;
        return owner.slice(byteOffset, t.bytes(), t.name());
    }

    private static void require(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException(what);
    }

    @Override
    public Tensor allocate(TensorType type, long rows, int cols, String name) {
        require(type != TensorType.F64, name + ": F64 tensors are host-only");
        long bytes = rows * cols * type.bytes();
        DeviceBuffer b = pool.take(bytes, name);
        b.zero(stream);
        return new Tensor(this, type, rows, cols, b, 0, name, null);
    }

    @Override
    public Tensor upload(float[] values, long rows, int cols, TensorType as, String name) {
        require(values.length == rows * cols, name + ": " + values.length + " values for [" + rows + ", " + cols + "]");
        Tensor t = allocate(as, rows, cols, name);
        write(t, 0, values);
        return t;
    }

    @Override
    public Tensor uploadInts(int[] values, long rows, int cols, String name) {
        require(values.length == rows * cols, name + ": " + values.length + " values for [" + rows + ", " + cols + "]");
        Tensor t = allocate(TensorType.I32, rows, cols, name);
        CudaException.check(cuMemcpyHtoD(buf(t).pointer(), Pointer.to(values), 4L * values.length), "cuMemcpyHtoD(" + name + ")");
        return t;
    }

    @Override
    public Tensor uploadRaw(ByteBuffer data, TensorType storedAs, long rows, int cols, TensorType as, String name) {
        long count = rows * cols;
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        require(b.remaining() >= count * storedAs.bytes(), name + ": " + b.remaining() + " bytes for " + count + " " + storedAs);
        if (storedAs == as) {
            Tensor t = allocate(as, rows, cols, name);
            ByteBuffer src = b.isDirect() ? b.slice() : ByteBuffer.allocateDirect(Math.toIntExact(t.bytes())).put(b.slice().limit((int) t.bytes())).flip();
            CudaException.check(cuMemcpyHtoD(buf(t).pointer(), Pointer.to(src), t.bytes()), "cuMemcpyHtoD(" + name + ")");
            return t;
        }
        float[] f = new float[Math.toIntExact(count)];
        if (storedAs == TensorType.BF16) {
            var s = b.asShortBuffer();
            for (int i = 0; i < f.length; i++) f[i] = Float.intBitsToFloat(s.get(i) << 16);
        } else {
            b.asFloatBuffer().get(f);
        }
        return upload(f, rows, cols, as, name);
    }

    @Override
    public void writeRaw(Tensor dst, long row, ByteBuffer data, TensorType storedAs) {
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (storedAs == dst.type()) {
            long at = (dst.offset() + row * dst.cols()) * dst.type().bytes(), len = b.remaining();
            require(at + len <= (dst.offset() + dst.elements()) * dst.type().bytes(), dst + ": " + len + " bytes at row " + row + " do not fit");
            DeviceBuffer owner = (DeviceBuffer) dst.storage();
            Pointer src = b.hasArray() ? Pointer.to(b.array()).withByteOffset(b.arrayOffset() + b.position()) : Pointer.to(b.slice());
            CudaException.check(cuMemcpyHtoD(owner.pointer().withByteOffset(at), src, len), "cuMemcpyHtoD(" + dst.name() + ")");
            return;
        }
        float[] f = new float[b.remaining() / storedAs.bytes()];
        if (storedAs == TensorType.BF16) {
            var s = b.asShortBuffer();
            for (int i = 0; i < f.length; i++) f[i] = Float.intBitsToFloat(s.get(i) << 16);
        } else {
            b.asFloatBuffer().get(f);
        }
        write(dst, row, f);
    }

    @Override
    public void write(Tensor dst, long row, float[] values) {
        long at = (dst.offset() + row * dst.cols()) * dst.type().bytes();
        require(values.length % dst.cols() == 0 && row * dst.cols() + values.length <= dst.elements(),
                dst + ": " + values.length + " values at row " + row + " do not fit");
        DeviceBuffer owner = (DeviceBuffer) dst.storage();
        switch (dst.type()) {
            case F32 -> CudaException.check(cuMemcpyHtoD(owner.pointer().withByteOffset(at), Pointer.to(values), 4L * values.length),
                    "cuMemcpyHtoD(" + dst.name() + ")");
            case BF16 -> {
                short[] s = new short[values.length];
                for (int i = 0; i < s.length; i++) s[i] = (short) org.routecal.compute.cuda.ref.Numerics.bf16Bits(values[i]);
                CudaException.check(cuMemcpyHtoD(owner.pointer().withByteOffset(at), Pointer.to(s), 2L * s.length),
                        "cuMemcpyHtoD(" + dst.name() + ")");
            }
            default -> throw new IllegalArgumentException(dst + ": write of floats into " + dst.type());
        }
    }

    @Override
    public float[] download(Tensor t) {
        int n = Math.toIntExact(t.elements());
        DeviceBuffer b = buf(t);
        switch (t.type()) {
            case F32 -> {
                float[] out = new float[n];
                CudaException.check(cuMemcpyDtoH(Pointer.to(out), b.pointer(), 4L * n), "cuMemcpyDtoH(" + t.name() + ")");
                return out;
            }
            case BF16 -> {
                short[] s = new short[n];
                CudaException.check(cuMemcpyDtoH(Pointer.to(s), b.pointer(), 2L * n), "cuMemcpyDtoH(" + t.name() + ")");
                float[] out = new float[n];
                for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat(s[i] << 16);
                return out;
            }
            default -> throw new IllegalArgumentException(t + " is not a float tensor");
        }
    }

    @Override
    public int[] downloadInts(Tensor t) {
        require(t.type() == TensorType.I32, "downloadInts: " + t);
        int[] out = new int[Math.toIntExact(t.elements())];
        CudaException.check(cuMemcpyDtoH(Pointer.to(out), buf(t).pointer(), 4L * out.length), "cuMemcpyDtoH(" + t.name() + ")");
        return out;
    }

    @Override
    public double[] downloadDoubles(Tensor t) {
        float[] f = download(t);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    @Override
    public void copyRows(Tensor src, long srcRow, Tensor dst, long dstRow, long rows) {
        require(src.type() == dst.type() && src.cols() == dst.cols(), "copyRows: " + src + " → " + dst);
        require(srcRow + rows <= src.rows() && dstRow + rows <= dst.rows(), "copyRows: rows out of range");
        if (rows == 0) return;
        long rowBytes = (long) src.cols() * src.type().bytes();
        CudaException.check(cuMemcpyDtoD(buf(dst).pointer().withByteOffset(dstRow * rowBytes), buf(src).pointer().withByteOffset(srcRow * rowBytes),
                rows * rowBytes), "cuMemcpyDtoD(" + src.name() + " → " + dst.name() + ")");
    }

    @Override public void zero(Tensor t) { buf(t).zero(stream); }

    @Override
    public void release(Tensor t) {
        Tensor w = widened.remove(t);
        if (w != null) w.close();
        pool.give((DeviceBuffer) t.storage());
    }

    @Override public void synchronize() { ctx.synchronize("queued ops"); }

    @Override
    public long memoryAvailable() {
        ctx.makeCurrent();
        long[] free = new long[1], total = new long[1];
        CudaException.check(cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0] + pool.freeBytes();
    }

    // ---- element-wise, norms -----------------------------------------------------------------------------------------

    @Override
    public void gatherRows(Tensor table, Tensor ids, Tensor out) {
        int n = Math.toIntExact(ids.elements());
        require(out.rows() == n && out.cols() == table.cols(), "gatherRows: " + out + " for " + n + " ids of " + table);
        k.gatherRows(buf(table), table.type() == TensorType.BF16, buf(ids), n, table.cols(), buf(out), stream);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        require(out.rows() == x.rows() && out.cols() == x.cols() && weight.elements() == x.cols(), "rmsNorm: " + x + " → " + out);
        k.rmsnorm(buf(x), x.cols(), buf(weight), buf(out), out.cols(), x.rowCount(), x.cols(), eps, false, stream);
    }

    @Override
    public void add(Tensor acc, Tensor x) {
        require(acc.elements() == x.elements(), "add: " + acc + " += " + x);
        k.residualAdd(buf(acc), buf(x), acc.elements(), stream);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor acc) {
        require(acc.elements() == x.elements(), "axpy: " + acc + " += α·" + x);
        k.axpy(buf(acc), buf(x), alpha, acc.elements(), stream);
    }

    @Override
    public void addBias(Tensor acc, Tensor bias) {
        require(bias.elements() == acc.cols(), "addBias: " + acc + " + " + bias);
        k.addBias(buf(acc), buf(bias), acc.rows(), acc.cols(), stream);
    }

    @Override
    public void siluMul(Tensor gateUp, Tensor out) {
        int inter = out.cols();
        require(gateUp.cols() == 2 * inter && gateUp.rows() == out.rows(), "siluMul: " + gateUp + " → " + out);
        DeviceBuffer g = buf(gateUp);
        k.siluMul(g, g.slice(4L * inter, g.bytes() - 4L * inter, "up half"), 2 * inter, buf(out), out.rowCount(), inter, false, stream);
    }

    @Override
    public void clampedSwiglu(Tensor gateUp, float alpha, float limit, Tensor out) {
        int inter = out.cols();
        require(gateUp.cols() == 2 * inter && gateUp.rows() == out.rows(), "clampedSwiglu: " + gateUp + " → " + out);
        DeviceBuffer g = buf(gateUp);
        k.clampedSwiglu(g, g.slice(4L * inter, g.bytes() - 4L * inter, "up half"), 2 * inter, buf(out), out.rowCount(), inter, alpha, limit,
                stream);
    }

    @Override
    public void scaleRows(Tensor x, Tensor scale, Tensor rowIndex) {
        int n = Math.toIntExact(scale.elements());
        require(rowIndex == null ? n <= x.rows() : rowIndex.elements() == n, "scaleRows: " + n + " scales for " + x);
        if (n > 0) k.scaleRows(buf(x), x.cols(), buf(scale), buf(rowIndex), n, stream);
    }

    @Override
    public void copyColumns(Tensor src, int srcCol, int srcStride, Tensor dst, int dstCol, int dstStride, int width, int blocks) {
        require(src.rows() == dst.rows() && src.type() == TensorType.F32 && dst.type() == TensorType.F32, "copyColumns: " + src + " → " + dst);
        require(blocks > 0 && width > 0 && srcCol >= 0 && dstCol >= 0 && srcStride >= 0 && dstStride >= width
                        && srcCol + (long) (blocks - 1) * srcStride + width <= src.cols() && dstCol + (long) (blocks - 1) * dstStride + width <= dst.cols(),
                "copyColumns: " + blocks + " blocks of " + width + " from " + src + " to " + dst);
        if (src.rows() > 0) k.copyColumns(buf(src), src.cols(), srcCol, srcStride, buf(dst), dst.cols(), dstCol, dstStride, width, blocks, src.rows(), stream);
    }

    @Override
    public void scaleRowsBySigmoid(Tensor x, Tensor gate) {
        require(gate.elements() == x.rows(), "scaleRowsBySigmoid: " + x + " by " + gate);
        k.scaleRowsSigmoid(buf(x), buf(gate), x.rows(), x.cols(), stream);
    }

    @Override public void clamp(Tensor x, float limit) { k.clamp(buf(x), x.elements(), limit, stream); }

    @Override
    public long countNonFinite(Tensor x) {
        DeviceBuffer count = pool.take(8, "non-finite count");
        try {
            k.countNonFinite(buf(x), x.elements(), count, stream);
            long[] out = new long[1];
            CudaException.check(cuMemcpyDtoH(Pointer.to(out), count.pointer(), 8), "cuMemcpyDtoH(non-finite count)");
            return out[0];
        } finally {
            pool.give(count);
        }
    }

    // ---- products ------------------------------------------------------------------------------------------------------

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor out, boolean accumulate) {
        int rows = x.rowCount(), in = x.cols(), n = w.rowCount();
        require(w.cols() == in && out.rows() == rows && out.cols() == n, "linear: " + x + " · " + w + "ᵀ → " + out);
        if (rows == 0) return;
        if (w.type() == TensorType.BF16 && in % 8 == 0) {
            try (Tensor xb = bf16Copy(x)) {
                k.gemmBf16(buf(xb), in, buf(w), buf(out), n, rows, n, in, false, accumulate, stream);
            }
        } else {
            Tensor wf = w.type() == TensorType.F32 ? w : widened.computeIfAbsent(w, this::widen);
            if (precision == Precision.BF16) {
                try (Tensor xr = roundedCopy(x)) {
                    k.gemmF32(buf(xr), in, buf(wf), buf(out), n, rows, n, in, accumulate, stream);
                }
            } else {
                k.gemmF32(buf(x), in, buf(wf), buf(out), n, rows, n, in, accumulate, stream);
            }
        }
        if (bias != null) addBias(out, bias);
    }

    /** x rounded to bf16 in a bf16 tensor (the tensor-core operand). */
    private Tensor bf16Copy(Tensor x) {
        Tensor xb = allocate(TensorType.BF16, x.rows(), x.cols(), x.name() + " bf16");
        k.castToBf16(buf(x), buf(xb), x.elements(), stream);
        return xb;
    }

    /** x rounded to bf16 but kept as fp32, for the fp32 kernels in a bf16 pass (shapes the bf16 GEMM cannot take). */
    private Tensor roundedCopy(Tensor x) {
        Tensor r = allocate(TensorType.F32, x.rows(), x.cols(), x.name() + " rounded");
        copyRows(x, 0, r, 0, x.rows());
        k.roundBf16(buf(r), r.elements(), stream);
        return r;
    }

    private Tensor widen(Tensor w) {
        return upload(download(w), w.rows(), w.cols(), TensorType.F32, w.name() + " fp32");
    }

    @Override
    public void groupedLinear(Tensor x, boolean gather, ExpertGroups groups, List<Tensor> w, Tensor out) {
        Tensor first = w.get(0);
        int n = first.rowCount(), in = first.cols(), experts = groups.experts();
        long stride = (long) n * in;
        for (int e = 0; e < experts; e++) {
            Tensor we = w.get(e);
            require(we.storage() == first.storage() && we.offset() == first.offset() + e * stride && we.type() == first.type(),
                    "groupedLinear: expert weights must be consecutive views of one tensor (expert " + e + ")");
        }
        require(x.cols() == in && out.cols() == n && out.rows() == groups.slots(), "groupedLinear: " + x + " → " + out);
        if (groups.slots() == 0) return;
        Tensor stack = first.type() == TensorType.BF16 ? null : first;
        DeviceBuffer base = ((DeviceBuffer) first.storage()).slice(first.offset() * first.type().bytes(), experts * stride * first.type().bytes(),
                "expert stack");
        DeviceBuffer rowIndex = gather ? buf(groups.sortedToken()) : null;
        if (first.type() == TensorType.BF16 && in % 8 == 0) {
            try (Tensor xb = bf16Copy(x)) {
                k.groupedGemmBf16(buf(xb), in, rowIndex, buf(groups.offsets()), experts, groups.slots(), base, buf(out), n, n, in, false, false,
                        stream);
            }
            return;
        }
        require(stack != null, "groupedLinear: bf16 experts need in_features % 8 == 0 (got " + in + "); use --precision fp32");
        if (precision == Precision.BF16) {
            try (Tensor xr = roundedCopy(x)) {
                k.groupedGemmF32(buf(xr), in, rowIndex, buf(groups.offsets()), experts, groups.slots(), base, buf(out), n, n, in, false, stream);
            }
        } else {
            k.groupedGemmF32(buf(x), in, rowIndex, buf(groups.offsets()), experts, groups.slots(), base, buf(out), n, n, in, false, stream);
        }
    }

    @Override
    public void addGroupedBias(Tensor y, ExpertGroups groups, Tensor bias) {
        require(bias.cols() == y.cols() && bias.rows() >= groups.experts() && bias.type() == TensorType.F32, "addGroupedBias: " + y + " + " + bias);
        if (y.rows() > 0) k.addGroupedBias(buf(y), y.cols(), buf(bias), buf(groups.offsets()), groups.experts(), y.rows(), stream);
    }

    // ---- attention -------------------------------------------------------------------------------------------------------

    @Override
    public void rope(Tensor x, int heads, int headDim, int rotaryDim, Tensor positions, float[] invFreq, float attentionScaling,
                     boolean interleaved) {
        require(x.cols() == heads * headDim && invFreq.length >= rotaryDim / 2, "rope: " + x + " as " + heads + "×" + headDim);
        DeviceBuffer f = constants.computeIfAbsent(invFreq, a -> DeviceBuffer.of(ctx, a, "rope inv_freq"));
        if (interleaved) k.ropeInterleaved(buf(x), x.cols(), buf(positions), f, x.rowCount(), heads, headDim, rotaryDim, attentionScaling, stream);
        else k.ropeNeox(buf(x), x.cols(), buf(positions), f, x.rowCount(), heads, headDim, rotaryDim, attentionScaling, stream);
    }

    /**
     * Causal prefill at bf16 precision runs on tensor cores (variant 2 of attention_prefill.cu, split bf16 operands:
     * fp32 accuracy). On by default since it passed BackendParity and the HF numerics on an H200 (2026-12-05: GLM-4.5's
     * bf16 logits 5.8e-4 NMSE from HF fp32, HF bf16 1.35e-3); {@code -Droutecal.tensorCoreAttention=false} keeps the
     * CUDA-core kernel (variant 1), e.g. for A/B timing.
     */
    private static final boolean TENSOR_CORE_ATTENTION = Boolean.parseBoolean(System.getProperty("routecal.tensorCoreAttention", "true"));

    /** Rows of 4-float multiples at a 4-float offset: 16-byte aligned (allocations are 256-byte aligned) for float4 loads. */
    private static boolean vectorAligned(Tensor t) { return t.type() == TensorType.F32 && t.cols() % 4 == 0 && t.offset() % 4 == 0; }

    @Override
    public void attention(Tensor q, Tensor kk, Tensor v, AttentionLayout l, Tensor out) {
        int totalQ = q.rowCount(), hd = l.headDim();
        if (totalQ == 0) return;
        if (TENSOR_CORE_ATTENTION && precision == Precision.BF16 && l.plain() && l.selfOnly() && l.slidingWindow() == 0 && (hd == 64 || hd == 128) && vectorAligned(q)
                && vectorAligned(kk) && vectorAligned(v) && out.cols() % 2 == 0 && out.offset() % 2 == 0) {
            // tensor cores with split bf16 operands: the fp32 result to ~1e-6 relative (fp32 precision keeps the exact kernel)
            k.attentionPrefillTc(buf(q), q.cols(), buf(kk), kk.cols(), buf(v), v.cols(), buf(out), out.cols(), buf(l.qStart()), l.sequences(),
                    totalQ, l.heads(), l.kvHeads(), hd, l.scale(), stream);
            return;
        }
        if (!l.plain() || hd % 32 != 0 || hd > 256) {
            // value heads of their own width, chunks, sinks, or head widths the older kernels were not built for
            k.attentionExt(buf(q), q.cols(), buf(kk), kk.cols(), buf(v), v.cols(), buf(out), out.cols(), buf(l.qStart()), buf(l.kvStart()),
                    l.sequences(), totalQ, l.heads(), l.kvHeads(), hd, l.valueHeadDim(), l.scale(), l.slidingWindow(), l.chunkSize(),
                    buf(l.sinks()), stream);
        } else if (l.selfOnly() && l.slidingWindow() == 0 && (hd == 64 || hd == 128)) {
            k.attentionPrefill(buf(q), q.cols(), buf(kk), kk.cols(), buf(v), v.cols(), buf(out), out.cols(), buf(l.qStart()), l.sequences(),
                    totalQ, l.heads(), l.kvHeads(), hd, l.scale(), stream);
        } else {
            k.attentionGeneral(buf(q), q.cols(), buf(kk), kk.cols(), buf(v), v.cols(), buf(out), out.cols(), buf(l.qStart()), buf(l.kvStart()),
                    l.sequences(), totalQ, l.heads(), l.kvHeads(), hd, l.scale(), l.slidingWindow(), stream);
        }
    }

    // ---- routing ---------------------------------------------------------------------------------------------------------

    @Override
    public void routerTopk(Tensor logits, Tensor bias, RouterRule rule, Tensor ids, Tensor weights) {
        int tokens = logits.rowCount(), experts = logits.cols(), topK = rule.topK();
        boolean sigmoid = rule.scoring() == RouterRule.Scoring.SIGMOID;
        boolean kernel = experts <= 256 && topK <= 8 && rule.groupCount() == 1 && (sigmoid || !rule.scoreCorrectionBias());
        if (kernel) {
            k.routerTopk(buf(logits), sigmoid && rule.scoreCorrectionBias() ? buf(bias) : null, tokens, experts, topK,
                    sigmoid ? RouterScoring.SIGMOID : RouterScoring.SOFTMAX, rule.normalizeTopK(), rule.routedScalingFactor(),
                    buf(ids), buf(weights), stream);
            return;
        }
        // the host applies what the kernel does not cover (grouped top-k, > 256 experts): logits are small
        float[] lg = download(logits), b = bias == null ? null : download(bias);
        int[] id = new int[tokens * topK];
        float[] w = new float[tokens * topK];
        for (int t = 0; t < tokens; t++) Router.route(rule, lg, t * experts, experts, b, id, t * topK, w, t * topK);
        CudaException.check(cuMemcpyHtoD(buf(ids).pointer(), Pointer.to(id), 4L * id.length), "cuMemcpyHtoD(topk ids)");
        write(weights, 0, w);
    }

    @Override
    public ExpertGroups groupByExpert(Tensor ids, int experts) {
        int tokens = ids.rowCount(), topK = ids.cols(), slots = tokens * topK;
        Tensor offsets = allocate(TensorType.I32, 1, experts + 1, "expert offsets");
        Tensor sorted = allocate(TensorType.I32, 1, Math.max(1, slots), "sorted token");
        Tensor slotPos = allocate(TensorType.I32, 1, Math.max(1, slots), "slot position");
        try (Tensor counts = allocate(TensorType.I32, 1, experts, "expert counts")) {
            k.sortByExpert(buf(ids), tokens, topK, experts, buf(counts), buf(offsets), buf(sorted), buf(slotPos), stream);
        }
        return new ExpertGroups(experts, slots, offsets, sorted, slotPos);
    }

    @Override
    public void combine(Tensor y, ExpertGroups groups, Tensor weights, Tensor out) {
        k.moeCombine(buf(y), buf(groups.slotPos()), buf(weights), out.rowCount(), weights.cols(), out.cols(), buf(out), true, stream);
    }

    // ---- calibration and evaluation ----------------------------------------------------------------------------------------

    @Override
    public void gram(Tensor x, Tensor rowIndex, Tensor rowWeight, int[] offsets, Tensor h, float alpha) {
        int kDim = x.cols(), groups = offsets.length - 1;
        require(h.type() == TensorType.F32 && h.rows() == (long) groups * kDim && h.cols() == kDim, "gram: " + h + " for " + groups + " × " + kDim);
        try (Tensor off = uploadInts(offsets, 1, offsets.length, "gram offsets")) {
            k.hessianAccumulate(buf(x), kDim, x.type() == TensorType.BF16, buf(rowIndex), buf(rowWeight), buf(off), groups, kDim, buf(h), alpha,
                    stream);
        }
    }

    @Override
    public double[] sumSquaresByGroup(Tensor y, int[] rowOffsets, int colFrom, int colTo) {
        int groups = rowOffsets.length - 1;
        DeviceBuffer out = pool.take(8L * groups, "group sums");
        try (Tensor off = uploadInts(rowOffsets, 1, rowOffsets.length, "group offsets")) {
            k.sumSquaresGroups(buf(y), y.cols(), buf(off), groups, colFrom, colTo, out, stream);
            double[] sums = new double[groups];
            CudaException.check(cuMemcpyDtoH(Pointer.to(sums), out.pointer(), 8L * groups), "cuMemcpyDtoH(group sums)");
            return sums;
        } finally {
            pool.give(out);
        }
    }

    @Override
    public void tokenStats(Tensor logits, Tensor targets, Tensor reference, Tensor out) {
        k.tokenStats(buf(logits), buf(reference), buf(targets), logits.rowCount(), logits.cols(), buf(out), stream);
    }

    // ---- GPTQ on the device ---------------------------------------------------------------------------------------------

    @Override
    public int[] choleskyInverseUpper(Tensor h, float dampFraction, Tensor u) {
        int kDim = h.cols(), batches = Math.toIntExact(h.rows() / kDim);
        boolean f64 = kDim <= 3072; // double factorisation, as the host solver; wider Hessians use the fp32 variant
        DeviceBuffer work = pool.take(h.rows() * kDim * (f64 ? 8L : 4L), "Cholesky work");
        try (Tensor status = allocate(TensorType.I32, 1, batches, "status")) {
            if (f64) k.hinvUpperF64(buf(h), work, buf(u), batches, kDim, dampFraction, buf(status), stream);
            else k.hinvUpper(buf(h), work, buf(u), batches, kDim, dampFraction, buf(status), stream);
            return downloadInts(status);
        } finally {
            pool.give(work);
        }
    }

    @Override
    public void gptqSweep(Tensor w, Tensor u, int rowsPerH, Tensor scales, Tensor zeros, Tensor groupOfStep, int groupSize, int qmin,
                          int qmax, int qRound, int blockSize, Tensor loss) {
        k.gptqSweep(buf(w), w.rowCount(), w.cols(), buf(u), rowsPerH, buf(scales), buf(zeros), buf(groupOfStep), groupSize, qmin, qmax,
                buf(loss), qRound, blockSize, stream);
    }

    @Override
    public float[] diagonals(Tensor h) {
        int kDim = h.cols(), batches = Math.toIntExact(h.rows() / kDim);
        try (Tensor d = allocate(TensorType.F32, 1, kDim * batches, "diagonals")) {
            k.diag(buf(h), kDim, batches, buf(d), stream);
            return download(d);
        }
    }

    @Override
    public void gatherColumns(Tensor src, Tensor idx, int rowsPerIdx, Tensor dst) {
        k.gatherCols(buf(src), src.rows(), src.cols(), buf(idx), rowsPerIdx, buf(dst), stream);
    }

    @Override
    public void close() {
        for (Tensor t : widened.values()) t.close();
        widened.clear();
        for (DeviceBuffer b : constants.values()) b.close();
        constants.clear();
        pool.close();
        ctx.close();
    }
}
