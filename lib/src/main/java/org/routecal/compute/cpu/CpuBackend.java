package org.routecal.compute.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.routecal.compute.AttentionLayout;
import org.routecal.compute.Backend;
import org.routecal.compute.DeviceInfo;
import org.routecal.compute.ExpertGroups;
import org.routecal.compute.Ops;
import org.routecal.compute.Precision;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.compute.Router;
import org.routecal.compute.RouterRule;

/**
 * The reference {@link Backend}: tensors are host arrays (F32 {@code float[]}, BF16 {@code short[]} bit patterns,
 * I32 {@code int[]}, F64 {@code double[]}) and products run on an {@link Ops} (Vector API or plain loops). Everything
 * is synchronous. Hessians accumulate in double, so the CPU GPTQ stays the bit-stable reference.
 */
public class CpuBackend implements Backend {
    private final Ops ops;
    private final Precision precision;
    private final DeviceInfo device;
    /** Linear weights take the panel layout ({@code -Droutecal.weightPanels=false}: row-major, for measurements). */
    private static final boolean WEIGHT_PANELS = !"false".equals(System.getProperty("routecal.weightPanels"));
    /** Grouped expert products in one task list ({@code -Droutecal.groupedPanels=false}: one product per expert, for measurements). */
    private static final boolean GROUPED_PANELS = !"false".equals(System.getProperty("routecal.groupedPanels"));
    /** BF16 Linear weights take bf16 panels ({@code -Droutecal.bf16Panels=false}: row-major bf16 and the dot-product tiles). */
    private static final boolean BF16_PANELS = !"false".equals(System.getProperty("routecal.bf16Panels"));
    /** Large F32 arrays of closed tensors are reused ({@code -Droutecal.reuseArrays=false}: always fresh, for A/B). */
    private static final boolean REUSE_ARRAYS = !"false".equals(System.getProperty("routecal.reuseArrays"));
    private final FloatArrayPool arrays = new FloatArrayPool();

    public CpuBackend(Ops ops, Precision precision, String reason) {
        this.ops = ops;
        this.precision = precision;
        this.device = new DeviceInfo("cpu", cpuName(), "java " + System.getProperty("java.version") + ", " + ops.name(),
                Runtime.getRuntime().maxMemory(), Runtime.getRuntime().availableProcessors(), reason);
    }

    /** The default CPU backend in fp32 (the reference numerics). */
    public static CpuBackend fp32() { return new CpuBackend(Backends.select(), Precision.FP32, "cpu requested"); }

    private static String cpuName() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (Exception ignored) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    public Ops ops() { return ops; }

    @Override public String name() { return "cpu(" + ops.name() + ", " + precision.id() + ")"; }

    @Override public DeviceInfo device() { return device; }

    @Override public Precision precision() { return precision; }

    @Override public TensorType hessianType() { return TensorType.F64; }

    // ---- storage helpers -----------------------------------------------------------------------------------------

    /** An F32 tensor's row-major backing array (tensors in panel layout are read through {@link #floats} only). */
    private static float[] f32(Tensor t) {
        if (t.isClosed()) throw new IllegalStateException(t + " is used after it was closed");
        if (t.storage() instanceof PanelWeights) throw new IllegalStateException(t + " holds Linear weights in panel layout; this op needs them row-major");
        return (float[]) t.storage();
    }

    private static int[] i32(Tensor t) { return (int[]) t.storage(); }

    private static int off(Tensor t) { return Math.toIntExact(t.offset()); }

    private static int n(Tensor t) { return Math.toIntExact(t.elements()); }

    private static void require(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException(what);
    }

    private static void requireType(Tensor t, TensorType type, String op) {
        require(t.type() == type, op + ": " + t + " must be " + type);
    }

    /** The elements of an F32 or BF16 tensor as floats: the backing array itself when it can be, else a copy. */
    private static float[] floats(Tensor t) {
        if (t.storage() instanceof PanelWeights p) {
            float[] out = new float[n(t)];
            p.read(t.offset() / t.cols(), t.rows(), out, 0);
            return out;
        }
        if (t.type() == TensorType.F32) {
            float[] a = f32(t);
            return t.offset() == 0 && a.length == t.elements() ? a : Arrays.copyOfRange(a, off(t), off(t) + n(t));
        }
        if (t.type() == TensorType.BF16) {
            short[] s = (short[]) t.storage();
            float[] out = new float[n(t)];
            for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat(s[off(t) + i] << 16);
            return out;
        }
        throw new IllegalArgumentException(t + " is not a float tensor");
    }

    static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40); // NaN stays NaN
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    static float roundBf16(float f) { return Float.intBitsToFloat(bf16(f) << 16); }

    /**
     * A copy of a float tensor's elements rounded to bf16 (row chunks on the pool): the GEMM inputs at bf16 precision.
     * The caller hands it back ({@link #recycle}) once the product has read it.
     */
    private float[] roundedToBf16(Tensor x) {
        boolean plain = x.type() == TensorType.F32 && !(x.storage() instanceof PanelWeights);
        float[] src = plain ? f32(x) : floats(x), r = REUSE_ARRAYS ? arrays.overwritten(n(x)) : new float[n(x)];
        int so = plain ? off(x) : 0, cols = x.cols();
        forRowChunks(x.rowCount(), r.length, (r0, r1) -> {
            for (int i = r0 * cols, end = r1 * cols; i < end; i++) r[i] = roundBf16(src[so + i]);
        });
        return r;
    }

    // ---- tensors ---------------------------------------------------------------------------------------------------

    @Override
    public Tensor allocate(TensorType type, long rows, int cols, String name) {
        long count = rows * cols;
        require(count <= Integer.MAX_VALUE - 8, name + ": " + count + " elements exceed one host array");
        int c = (int) count;
        Object storage = switch (type) {
            case F32 -> REUSE_ARRAYS ? arrays.zeroed(c) : new float[c];
            case BF16 -> new short[c];
            case I32 -> new int[c];
            case F64 -> new double[c];
        };
        return new Tensor(this, type, rows, cols, storage, 0, name, null);
    }

    @Override
    public Tensor upload(float[] values, long rows, int cols, TensorType as, String name) {
        require(values.length == rows * cols, name + ": " + values.length + " values for [" + rows + ", " + cols + "]");
        if (as == TensorType.F32) return new Tensor(this, as, rows, cols, values.clone(), 0, name, null);
        Tensor t = allocate(as, rows, cols, name);
        write(t, 0, values);
        return t;
    }

    @Override
    public Tensor uploadInts(int[] values, long rows, int cols, String name) {
        require(values.length == rows * cols, name + ": " + values.length + " values for [" + rows + ", " + cols + "]");
        return new Tensor(this, TensorType.I32, rows, cols, values.clone(), 0, name, null);
    }

    @Override
    public Tensor uploadRaw(ByteBuffer data, TensorType storedAs, long rows, int cols, TensorType as, String name) {
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int count = Math.toIntExact(rows * cols);
        require(b.remaining() >= (long) count * storedAs.bytes(), name + ": " + b.remaining() + " bytes for " + count + " " + storedAs);
        Tensor t = allocate(as, rows, cols, name);
        if (storedAs == TensorType.BF16 && as == TensorType.BF16) {
            b.asShortBuffer().get((short[]) t.storage(), 0, count);
        } else if (storedAs == TensorType.F32 && as == TensorType.F32) {
            b.asFloatBuffer().get(f32(t), 0, count);
        } else if (storedAs == TensorType.BF16 && as == TensorType.F32) {
            float[] out = f32(t);
            var s = b.asShortBuffer();
            for (int i = 0; i < count; i++) out[i] = Float.intBitsToFloat(s.get(i) << 16);
        } else if (storedAs == TensorType.F32 && as == TensorType.BF16) {
            short[] out = (short[]) t.storage();
            var f = b.asFloatBuffer();
            for (int i = 0; i < count; i++) out[i] = bf16(f.get(i));
        } else {
            throw new IllegalArgumentException(name + ": cannot upload " + storedAs + " as " + as);
        }
        return t;
    }

    @Override
    public void writeRaw(Tensor dst, long row, ByteBuffer data, TensorType storedAs) {
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = b.remaining() / storedAs.bytes();
        if (storedAs == TensorType.BF16 && dst.type() == TensorType.BF16 && dst.storage() instanceof short[]) {
            require(n % dst.cols() == 0 && row * dst.cols() + n <= dst.elements(), dst + ": " + n + " values at row " + row + " do not fit");
            b.asShortBuffer().get((short[]) dst.storage(), off(dst) + Math.toIntExact(row * dst.cols()), n);
            return;
        }
        if (dst.type() == TensorType.F32 && !(dst.storage() instanceof PanelWeights)) { // decode straight into place
            require(n % dst.cols() == 0 && row * dst.cols() + n <= dst.elements(), dst + ": " + n + " values at row " + row + " do not fit");
            org.routecal.io.safetensors.DTypeCodec.decode(b, storedAs == TensorType.BF16 ? org.routecal.io.safetensors.DType.BF16
                    : org.routecal.io.safetensors.DType.F32, f32(dst), off(dst) + Math.toIntExact(row * dst.cols()), n);
            return;
        }
        float[] v = new float[n];
        if (storedAs == TensorType.BF16) {
            var sb = b.asShortBuffer();
            for (int i = 0; i < n; i++) v[i] = Float.intBitsToFloat(sb.get(i) << 16);
        } else {
            b.asFloatBuffer().get(v);
        }
        write(dst, row, v);
    }

    @Override
    public void write(Tensor dst, long row, float[] values) {
        require(values.length % dst.cols() == 0 && row * dst.cols() + values.length <= dst.elements(),
                dst + ": " + values.length + " values at row " + row + " do not fit");
        int base = off(dst) + Math.toIntExact(row * dst.cols());
        if (dst.storage() instanceof PanelWeights p) {
            p.write(dst.offset() / dst.cols() + row, values, 0, values.length);
            return;
        }
        switch (dst.type()) {
            case F32 -> System.arraycopy(values, 0, f32(dst), base, values.length);
            case BF16 -> {
                short[] s = (short[]) dst.storage();
                for (int i = 0; i < values.length; i++) s[base + i] = bf16(values[i]);
            }
            default -> throw new IllegalArgumentException(dst + ": write of floats into " + dst.type());
        }
    }

    @Override
    public float[] download(Tensor t) {
        if (t.type() == TensorType.F64) {
            double[] d = (double[]) t.storage();
            float[] out = new float[n(t)];
            for (int i = 0; i < out.length; i++) out[i] = (float) d[off(t) + i];
            return out;
        }
        float[] f = floats(t);
        return f == t.storage() ? f.clone() : f;
    }

    @Override
    public int[] downloadInts(Tensor t) {
        requireType(t, TensorType.I32, "downloadInts");
        return Arrays.copyOfRange(i32(t), off(t), off(t) + n(t));
    }

    @Override
    public double[] downloadDoubles(Tensor t) {
        if (t.type() == TensorType.F64) return Arrays.copyOfRange((double[]) t.storage(), off(t), off(t) + n(t));
        float[] f = floats(t);
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) out[i] = f[i];
        return out;
    }

    @Override
    public Tensor uploadHessian(double[] values, long rows, int cols, String name) {
        if (hessianType() != TensorType.F64) return Backend.super.uploadHessian(values, rows, cols, name);
        require(values.length == rows * cols, name + ": " + values.length + " values for [" + rows + ", " + cols + "]");
        return new Tensor(this, TensorType.F64, rows, cols, values.clone(), 0, name, null);
    }

    @Override
    public void copyRows(Tensor src, long srcRow, Tensor dst, long dstRow, long rows) {
        require(src.type() == dst.type() && src.cols() == dst.cols(), "copyRows: " + src + " → " + dst);
        require(srcRow + rows <= src.rows() && dstRow + rows <= dst.rows(), "copyRows: rows out of range");
        int c = src.cols();
        if (src.storage() instanceof PanelWeights || dst.storage() instanceof PanelWeights) {
            try (Tensor rowsOfSrc = src.rows(srcRow, srcRow + rows)) {
                write(dst, dstRow, floats(rowsOfSrc));
            }
            return;
        }
        System.arraycopy(src.storage(), off(src) + Math.toIntExact(srcRow * c), dst.storage(), off(dst) + Math.toIntExact(dstRow * c),
                Math.toIntExact(rows * c));
    }

    @Override
    public void zero(Tensor t) {
        if (t.storage() instanceof PanelWeights) {
            write(t, 0, new float[n(t)]);
            return;
        }
        int from = off(t), to = from + n(t);
        switch (t.type()) {
            case F32 -> Arrays.fill(f32(t), from, to, 0f);
            case BF16 -> Arrays.fill((short[]) t.storage(), from, to, (short) 0);
            case I32 -> Arrays.fill(i32(t), from, to, 0);
            case F64 -> Arrays.fill((double[]) t.storage(), from, to, 0.0);
        }
    }

    /** Host arrays go to the GC, but for large F32 ones, kept for the next allocation of their length ({@link FloatArrayPool}). */
    @Override
    public void release(Tensor t) {
        if (REUSE_ARRAYS && t.type() == TensorType.F32 && t.storage() instanceof float[] a && t.offset() == 0 && a.length == t.elements()) {
            arrays.give(a);
        }
    }

    /** Host arrays: writes into disjoint rows touch disjoint elements (packing happens after loading). */
    @Override public boolean concurrentHostWrites() { return true; }

    /**
     * 256 MB stacks: big enough to be humongous objects for G1 (allocated straight in the old generation and
     * reclaimed eagerly, never copied by a young collection: one 12 MB array per expert cost the 12-layer route 15 s of
     * pauses instead of 5), small enough to fit the array limit and the heap's free gaps.
     */
    @Override public long expertStackBytes() { return 256L << 20; }

    /**
     * F32 and BF16 Linear weights whose matrices are whole panels ({@link PanelWeights#fits}: rows a multiple of
     * {@link PanelMatmul#NR}, true of every real model's projections) are packed in place for {@link PanelMatmul},
     * 1.55× the row-major kernels' speed on the bench shapes (BF16 ones as bf16 panels, widened in registers); others
     * stay as they are.
     */
    @Override
    public Tensor prepareLinearWeights(Tensor t, int segmentRows) {
        if (!WEIGHT_PANELS || !(ops instanceof VectorOps) || t.isView() || t.offset() != 0 || !PanelWeights.fits(t.rows())
                || !PanelWeights.fits(segmentRows)) {
            return t;
        }
        PanelWeights packed;
        if (t.type() == TensorType.F32 && t.storage() instanceof float[] a && a.length == t.elements()) {
            packed = PanelWeights.packInPlace(a, t.rows(), t.cols(), CpuThreads.sharedPool());
        } else if (t.type() == TensorType.BF16 && BF16_PANELS && t.storage() instanceof short[] a && a.length == t.elements()) {
            packed = PanelWeights.packInPlace(a, t.rows(), t.cols(), CpuThreads.sharedPool());
        } else {
            return t;
        }
        Tensor out = new Tensor(this, t.type(), t.rows(), t.cols(), packed, 0, t.name(), null);
        t.handOver(); // the array is in panel order now: t's row-major view of it must never be read again
        return out;
    }

    @Override public void synchronize() {}

    @Override
    public long memoryAvailable() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory()) + arrays.heldBytes(); // kept arrays are softly held
    }

    // ---- element-wise, norms -----------------------------------------------------------------------------------------

    @Override
    public void gatherRows(Tensor table, Tensor ids, Tensor out) {
        requireType(out, TensorType.F32, "gatherRows");
        int[] id = i32(ids);
        int n = n(ids), c = table.cols();
        require(out.rows() == n && out.cols() == c, "gatherRows: " + out + " for " + n + " ids of " + table);
        float[] o = f32(out);
        for (int r = 0; r < n; r++) {
            int row = id[off(ids) + r];
            if (row < 0 || row >= table.rows()) {
                throw new org.routecal.RoutecalException("token id " + row + " is outside the vocabulary [0, " + table.rows() + ")");
            }
            int dst = off(out) + r * c;
            if (table.storage() instanceof PanelWeights p) {
                p.read(table.offset() / c + row, 1, o, dst);
            } else if (table.type() == TensorType.F32) {
                System.arraycopy(f32(table), off(table) + row * c, o, dst, c);
            } else {
                short[] s = (short[]) table.storage();
                int src = off(table) + row * c;
                for (int i = 0; i < c; i++) o[dst + i] = Float.intBitsToFloat(s[src + i] << 16);
            }
        }
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        int rows = x.rowCount(), dim = x.cols();
        require(out.rows() == rows && out.cols() == dim && weight.elements() == dim, "rmsNorm: " + x + ", " + weight + " → " + out);
        float[] xa = f32(x), oa = f32(out), w = floats(weight);
        int xo = off(x), oo = off(out);
        forRowChunks(rows, (long) rows * dim, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xb = xo + r * dim, ob = oo + r * dim;
                float ss = ops.dot(xa, xb, xa, xb, dim) / dim;
                float inv = (float) (1.0 / Math.sqrt(ss + eps));
                for (int i = 0; i < dim; i++) oa[ob + i] = w[i] * (xa[xb + i] * inv);
            }
        });
    }

    @Override
    public void add(Tensor acc, Tensor x) {
        require(acc.elements() == x.elements(), "add: " + acc + " += " + x);
        float[] a = f32(acc), b = f32(x);
        int ao = off(acc), bo = off(x), cols = acc.cols();
        forRowChunks(acc.rowCount(), acc.elements(), (r0, r1) -> {
            for (int i = r0 * cols, e = r1 * cols; i < e; i++) a[ao + i] += b[bo + i];
        });
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor acc) {
        require(acc.elements() == x.elements(), "axpy: " + acc + " += α·" + x);
        float[] a = f32(acc), b = f32(x);
        int ao = off(acc), bo = off(x), cols = acc.cols();
        forRowChunks(acc.rowCount(), acc.elements(), (r0, r1) -> {
            for (int i = r0 * cols, e = r1 * cols; i < e; i++) a[ao + i] += alpha * b[bo + i];
        });
    }

    @Override
    public void addBias(Tensor acc, Tensor bias) {
        require(bias.elements() == acc.cols(), "addBias: " + acc + " + " + bias);
        float[] a = f32(acc), b = floats(bias);
        int c = acc.cols(), ao = off(acc);
        for (int r = 0; r < acc.rows(); r++) for (int i = 0; i < c; i++) a[ao + r * c + i] += b[i];
    }

    @Override
    public void siluMul(Tensor gateUp, Tensor out) {
        int rows = gateUp.rowCount(), inter = out.cols();
        require(gateUp.cols() == 2 * inter && out.rows() == rows, "siluMul: " + gateUp + " → " + out);
        float[] g = f32(gateUp), o = f32(out);
        int go = off(gateUp), oo = off(out);
        boolean vector = ops instanceof VectorOps;
        // rows in parallel, each row on its own (so the result does not depend on the split)
        forRowChunks(rows, (long) rows * inter, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int gb = go + r * 2 * inter, ob = oo + r * inter;
                if (vector) ActivationKernels.siluMulVector(g, gb, o, ob, inter);
                else ActivationKernels.siluMulPlain(g, gb, o, ob, inter, 0);
            }
        });
    }

    private interface RowRange { void run(int from, int to); }

    /** Rows [0, rows) in chunks on the shared pool when the work ({@code elements}) is worth a fork, else inline. */
    private static void forRowChunks(int rows, long elements, RowRange body) {
        int chunks = elements < (1 << 16) ? 1 : Math.min(rows, 4 * CpuThreads.defaultThreads());
        if (chunks <= 1) {
            body.run(0, rows);
            return;
        }
        CpuThreads.forEach(CpuThreads.sharedPool(), chunks, c -> body.run((int) ((long) rows * c / chunks), (int) ((long) rows * (c + 1) / chunks)));
    }

    @Override
    public void clampedSwiglu(Tensor gateUp, float alpha, float limit, Tensor out) {
        int rows = gateUp.rowCount(), inter = out.cols();
        require(gateUp.cols() == 2 * inter && out.rows() == rows, "clampedSwiglu: " + gateUp + " → " + out);
        float[] g = f32(gateUp), o = f32(out);
        int go = off(gateUp), oo = off(out);
        boolean vector = ops instanceof VectorOps;
        forRowChunks(rows, (long) rows * inter, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int gb = go + r * 2 * inter, ob = oo + r * inter;
                if (vector) ActivationKernels.clampedSwigluVector(g, gb, o, ob, inter, alpha, limit);
                else ActivationKernels.clampedSwigluPlain(g, gb, o, ob, inter, alpha, limit, 0);
            }
        });
    }

    @Override
    public void scaleRows(Tensor x, Tensor scale, Tensor rowIndex) {
        float[] a = f32(x), s = floats(scale);
        int n = s.length, c = x.cols();
        int[] idx = rowIndex == null ? null : downloadInts(rowIndex);
        require(idx == null ? n <= x.rows() : idx.length == n, "scaleRows: " + n + " scales for " + x + (idx == null ? "" : " through " + rowIndex));
        for (int i = 0; i < n; i++) {
            int r = idx == null ? i : idx[i];
            require(r >= 0 && r < x.rows(), "scaleRows: row " + r + " outside " + x);
            int b = off(x) + r * c;
            for (int j = 0; j < c; j++) a[b + j] *= s[i];
        }
    }

    @Override
    public void copyColumns(Tensor src, int srcCol, int srcStride, Tensor dst, int dstCol, int dstStride, int width, int blocks) {
        require(src.rows() == dst.rows() && src.type() == TensorType.F32 && dst.type() == TensorType.F32, "copyColumns: " + src + " → " + dst);
        require(blocks > 0 && width > 0 && srcCol >= 0 && dstCol >= 0 && srcStride >= 0 && dstStride >= width
                        && srcCol + (long) (blocks - 1) * srcStride + width <= src.cols() && dstCol + (long) (blocks - 1) * dstStride + width <= dst.cols(),
                "copyColumns: " + blocks + " blocks of " + width + " from column " + srcCol + " (stride " + srcStride + ") of " + src
                        + " to column " + dstCol + " (stride " + dstStride + ") of " + dst);
        float[] a = f32(src), b = f32(dst);
        for (int r = 0; r < src.rows(); r++) {
            for (int k = 0; k < blocks; k++) {
                System.arraycopy(a, off(src) + r * src.cols() + srcCol + k * srcStride, b, off(dst) + r * dst.cols() + dstCol + k * dstStride, width);
            }
        }
    }

    @Override
    public void scaleRowsBySigmoid(Tensor x, Tensor gate) {
        require(gate.elements() == x.rows(), "scaleRowsBySigmoid: " + x + " by " + gate);
        float[] a = f32(x), g = f32(gate);
        int c = x.cols();
        for (int r = 0; r < x.rows(); r++) {
            float s = (float) (1.0 / (1.0 + Math.exp(-g[off(gate) + r])));
            int b = off(x) + r * c;
            for (int i = 0; i < c; i++) a[b + i] *= s;
        }
    }

    @Override
    public void clamp(Tensor x, float limit) {
        float[] a = f32(x);
        for (int i = off(x), e = off(x) + n(x); i < e; i++) a[i] = Math.max(-limit, Math.min(limit, a[i]));
    }

    @Override
    public long countNonFinite(Tensor x) {
        float[] a = f32(x);
        long bad = 0;
        for (int i = off(x), e = off(x) + n(x); i < e; i++) if (!Float.isFinite(a[i])) bad++;
        return bad;
    }

    // ---- products ------------------------------------------------------------------------------------------------------

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor out, boolean accumulate) {
        linear(x, w, bias, out, accumulate, CpuThreads.sharedPool());
    }

    /** As {@link #linear(Tensor, Tensor, Tensor, Tensor, boolean)} on the given pool (null: the calling thread). */
    private void linear(Tensor x, Tensor w, Tensor bias, Tensor out, boolean accumulate, ForkJoinPool pool) {
        if (precision != Precision.BF16) {
            linear(x, null, w, bias, out, accumulate, pool);
            return;
        }
        float[] rounded = roundedToBf16(x); // bf16 activations, as the GPU's GEMM inputs are
        try {
            linear(x, rounded, w, bias, out, accumulate, pool);
        } finally {
            recycle(rounded);
        }
    }

    @Override
    public void linears(Tensor x, Tensor[] w, Tensor[] bias, Tensor[] out) {
        if (w.length != bias.length || w.length != out.length) throw new IllegalArgumentException("linears: " + w.length + " weights, " + bias.length + " biases, " + out.length + " outputs");
        int rows = x.rowCount(), in = x.cols();
        for (int i = 0; i < w.length; i++) {
            require(w[i].cols() == in && out[i].rows() == rows && out[i].cols() == w[i].rowCount(), "linears: " + x + " · " + w[i] + "ᵀ → " + out[i]);
            requireType(out[i], TensorType.F32, "linears");
            if (!onPanels(w[i], in)) { // a weight not in whole panels: each product on its own
                Backend.super.linears(x, w, bias, out);
                return;
            }
        }
        float[] rounded = precision == Precision.BF16 ? roundedToBf16(x) : null; // once for all the weights
        try {
            float[] xa = rounded != null ? rounded : x.type() == TensorType.F32 ? f32(x) : floats(x);
            int xOff = rounded == null && x.type() == TensorType.F32 ? off(x) : 0;
            PanelMatmul.Output[] outputs = new PanelMatmul.Output[w.length];
            for (int i = 0; i < w.length; i++) {
                outputs[i] = new PanelMatmul.Output(((PanelWeights) w[i].storage()).data, off(w[i]), w[i].rowCount(),
                        bias[i] == null ? null : floats(bias[i]), f32(out[i]), off(out[i]));
            }
            PanelMatmul.products(xa, xOff, rows, in, outputs, false, CpuThreads.sharedPool(), null);
        } finally {
            if (rounded != null) recycle(rounded);
        }
    }

    /** Whether w [N, in] is whole panels of a packed weight, which {@link PanelMatmul} reads in place. */
    private static boolean onPanels(Tensor w, int in) {
        return w.storage() instanceof PanelWeights && w.offset() % ((long) PanelWeights.NR * in) == 0 && PanelWeights.fits(w.rowCount());
    }

    /** A temporary array (a bf16-rounded copy) back to the pool once nothing reads it. */
    private void recycle(float[] a) {
        if (REUSE_ARRAYS) arrays.give(a);
    }

    /** The product with x's values from {@code rounded} (bf16 precision) or from x itself (null). */
    private void linear(Tensor x, float[] rounded, Tensor w, Tensor bias, Tensor out, boolean accumulate, ForkJoinPool pool) {
        int rows = x.rowCount(), in = x.cols(), outCols = w.rowCount();
        require(w.cols() == in && out.rows() == rows && out.cols() == outCols, "linear: " + x + " · " + w + "ᵀ → " + out);
        requireType(out, TensorType.F32, "linear");
        float[] xa;
        int xOff;
        if (rounded != null) {
            xa = rounded;
            xOff = 0;
        } else if (x.type() != TensorType.F32) {
            xa = floats(x);
            xOff = 0;
        } else {
            xa = f32(x);
            xOff = off(x);
        }
        float[] b = bias == null ? null : floats(bias);
        if (onPanels(w, in)) {
            PanelMatmul.product(xa, xOff, rows, in, ((PanelWeights) w.storage()).data, off(w), outCols, b, f32(out), off(out), accumulate, pool, null);
            return;
        }
        if (w.storage() instanceof PanelWeights) w = upload(floats(w), outCols, in, TensorType.F32, w.name()); // a view across panels
        if (!(ops instanceof VectorOps)) { // the plain-loop reference (-Droutecal.backend=scalar)
            float[] y = new float[rows * outCols];
            ops.matmulTransposed(xOff == 0 && xa.length == rows * in ? xa : Arrays.copyOfRange(xa, xOff, xOff + rows * in),
                    rows, in, floats(w), outCols, b, y);
            float[] o = f32(out);
            int oo = off(out);
            if (accumulate) for (int i = 0; i < y.length; i++) o[oo + i] += y[i];
            else System.arraycopy(y, 0, o, oo, y.length);
        } else if (w.type() == TensorType.BF16) { // bf16 weights widen in registers: no float copy of the weight
            MatmulKernels.matmulTransposed(xa, xOff, rows, in, (short[]) w.storage(), off(w), outCols, b, f32(out), off(out), accumulate, pool);
        } else {
            requireType(w, TensorType.F32, "linear");
            MatmulKernels.matmulTransposed(xa, xOff, rows, in, f32(w), off(w), outCols, b, f32(out), off(out), accumulate, pool);
        }
    }

    @Override
    public void groupedLinear(Tensor x, boolean gather, ExpertGroups groups, List<Tensor> w, Tensor out) {
        int[] offsets = downloadInts(groups.offsets()), token = downloadInts(groups.sortedToken());
        int in = x.cols();
        float[] xa = f32(x);
        if (groupedOnPanels(x, groups, w, out, offsets, token, gather)) return;
        int active = 0;
        for (int e = 0; e < groups.experts(); e++) active += offsets[e + 1] > offsets[e] ? 1 : 0;
        // many routed experts: one expert per task, each product on one thread (no fork per small product); few
        // experts: each product spread over the pool. A row's result is the same either way.
        boolean perExpert = ops instanceof VectorOps && active >= 4 * CpuThreads.defaultThreads();
        CpuThreads.forEach(perExpert ? CpuThreads.sharedPool() : null, groups.experts(), e -> {
            int from = offsets[e], to = offsets[e + 1], n = to - from;
            if (n == 0) return;
            Tensor we = w.get(e);
            Tensor xe = allocate(TensorType.F32, n, in, "expert rows");
            float[] xs = f32(xe);
            for (int r = 0; r < n; r++) {
                int src = off(x) + (gather ? token[from + r] : from + r) * in;
                System.arraycopy(xa, src, xs, r * in, in);
            }
            linear(xe, we, null, out.rows(from, to), false, perExpert ? null : CpuThreads.sharedPool());
        });
    }

    /**
     * The grouped product on packed panels, every expert's tiles in one task list ({@link PanelMatmul#grouped}); false
     * (nothing done) where a weight is not in panels (shapes off the panel size, the scalar reference). At bf16
     * precision the activations are rounded to bf16 first, as {@link #linear} rounds them.
     */
    private boolean groupedOnPanels(Tensor x, ExpertGroups groups, List<Tensor> w, Tensor out, int[] offsets, int[] token, boolean gather) {
        if (!GROUPED_PANELS || !(ops instanceof VectorOps) || x.type() != TensorType.F32) return false;
        int experts = groups.experts(), in = x.cols(), n = out.cols();
        require(out.rows() >= offsets[experts], "groupedLinear: " + offsets[experts] + " routed rows into " + out);
        if (!PanelWeights.fits(n)) return false;
        Object[] panels = new Object[experts];
        int[] wOff = new int[experts];
        for (int e = 0; e < experts; e++) {
            if (offsets[e + 1] == offsets[e]) {
                panels[e] = new float[0];
                continue;
            }
            Tensor we = w.get(e);
            if (we.isClosed()) throw new IllegalStateException(we + " is used after it was closed");
            require(we.cols() == in && we.rowCount() == n, "groupedLinear: " + x + " · " + we + "ᵀ → " + out);
            if (!(we.storage() instanceof PanelWeights pw) || we.offset() % ((long) PanelWeights.NR * in) != 0) return false;
            panels[e] = pw.data;
            wOff[e] = off(we);
        }
        requireType(out, TensorType.F32, "groupedLinear");
        float[] rounded = precision == Precision.BF16 ? roundedToBf16(x) : null; // bf16 activations, as linear rounds them
        try {
            PanelMatmul.grouped(rounded != null ? rounded : f32(x), rounded != null ? 0 : off(x), in, gather ? token : null, offsets, experts,
                    panels, wOff, n, f32(out), off(out), CpuThreads.sharedPool());
        } finally {
            if (rounded != null) recycle(rounded);
        }
        return true;
    }

    @Override
    public void addGroupedBias(Tensor y, ExpertGroups groups, Tensor bias) {
        int[] offsets = downloadInts(groups.offsets());
        int n = y.cols();
        require(bias.cols() == n && bias.rows() >= groups.experts() && y.rows() >= offsets[groups.experts()], "addGroupedBias: " + y + " + " + bias);
        float[] a = f32(y), b = floats(bias);
        for (int e = 0; e < groups.experts(); e++) {
            for (int r = offsets[e]; r < offsets[e + 1]; r++) {
                int base = off(y) + r * n;
                for (int i = 0; i < n; i++) a[base + i] += b[e * n + i];
            }
        }
    }

    // ---- attention -------------------------------------------------------------------------------------------------------

    @Override
    public void rope(Tensor x, int heads, int headDim, int rotaryDim, Tensor positions, float[] invFreq, float attentionScaling,
                     boolean interleaved) {
        float[] a = f32(x);
        int[] pos = i32(positions);
        int width = x.cols(), half = rotaryDim / 2;
        require(width == heads * headDim && invFreq.length >= half && rotaryDim <= headDim && rotaryDim % 2 == 0,
                "rope: " + x + " as " + heads + "×" + headDim + ", rotary " + rotaryDim);
        int rows = x.rowCount();
        forRowChunks(rows, (long) rows * width * 4, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int p = pos[off(positions) + t], rowBase = off(x) + t * width;
                for (int i = 0; i < half; i++) {
                    float angle = p * invFreq[i];
                    float cos = (float) Math.cos(angle) * attentionScaling, sin = (float) Math.sin(angle) * attentionScaling;
                    // the pair: (x[2i], x[2i+1]) interleaved, (x[i], x[i + rot/2]) rotate-half
                    int first = interleaved ? 2 * i : i, second = interleaved ? 2 * i + 1 : i + half;
                    for (int h = 0; h < heads; h++) {
                        int base = rowBase + h * headDim;
                        float u = a[base + first], v = a[base + second];
                        a[base + first] = u * cos - v * sin;
                        a[base + second] = v * cos + u * sin;
                    }
                }
            }
        });
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, AttentionLayout l, Tensor out) {
        int heads = l.heads(), hd = l.headDim(), vd = l.valueHeadDim();
        int qWidth = q.cols(), kWidth = k.cols(), vWidth = v.cols(), oWidth = out.cols();
        require(qWidth == heads * hd && kWidth == l.kvHeads() * hd && vWidth == l.kvHeads() * vd && oWidth == heads * vd,
                "attention: q " + q + ", k " + k + ", v " + v + ", out " + out + " for " + heads + "/" + l.kvHeads() + " heads of " + hd + "/" + vd);
        AttentionKernel.run(ops, ops instanceof VectorOps, l, new AttentionKernel.Operands(f32(q), off(q), qWidth, f32(k), off(k), kWidth,
                f32(v), off(v), vWidth, f32(out), off(out), oWidth, l.sinks() == null ? null : floats(l.sinks())));
    }

    // ---- routing ---------------------------------------------------------------------------------------------------------

    @Override
    public void routerTopk(Tensor logits, Tensor bias, RouterRule rule, Tensor ids, Tensor weights) {
        int tokens = logits.rowCount(), experts = logits.cols(), k = rule.topK();
        require(ids.elements() == (long) tokens * k && weights.elements() == (long) tokens * k, "routerTopk: outputs for " + tokens + "×" + k);
        float[] lg = floats(logits), b = bias == null ? null : floats(bias);
        int[] id = new int[tokens * k];
        float[] w = new float[tokens * k];
        for (int t = 0; t < tokens; t++) Router.route(rule, lg, t * experts, experts, b, id, t * k, w, t * k);
        System.arraycopy(id, 0, i32(ids), off(ids), id.length);
        System.arraycopy(w, 0, f32(weights), off(weights), w.length);
    }

    @Override
    public ExpertGroups groupByExpert(Tensor ids, int experts) {
        int[] id = downloadInts(ids);
        int slots = id.length;
        int[] offsets = new int[experts + 1];
        for (int e : id) offsets[e + 1]++;
        for (int e = 0; e < experts; e++) offsets[e + 1] += offsets[e];
        int[] cursor = Arrays.copyOf(offsets, experts), sorted = new int[slots], slotPos = new int[slots];
        int k = ids.cols();
        for (int s = 0; s < slots; s++) {
            int pos = cursor[id[s]]++;
            sorted[pos] = s / k;
            slotPos[s] = pos;
        }
        return new ExpertGroups(experts, slots, uploadInts(offsets, 1, experts + 1, "offsets"),
                uploadInts(sorted, 1, slots, "sorted token"), uploadInts(slotPos, 1, slots, "slot position"));
    }

    @Override
    public void combine(Tensor y, ExpertGroups groups, Tensor weights, Tensor out) {
        int tokens = out.rowCount(), hidden = out.cols(), k = weights.cols();
        float[] ya = f32(y), o = f32(out), w = floats(weights);
        int[] pos = downloadInts(groups.slotPos());
        forRowChunks(tokens, (long) tokens * k * hidden, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                for (int j = 0; j < k; j++) {
                    float c = w[t * k + j];
                    if (c != 0f) ops.axpy(c, ya, off(y) + pos[t * k + j] * hidden, o, off(out) + t * hidden, hidden);
                }
            }
        });
    }

    // ---- calibration and evaluation ----------------------------------------------------------------------------------------

    @Override
    public void gram(Tensor x, Tensor rowIndex, Tensor rowWeight, int[] offsets, Tensor h, float alpha) {
        require(h.type() == TensorType.F64 || h.type() == TensorType.F32, "gram: " + h + " must be F64 or F32");
        int kDim = x.cols(), groups = offsets.length - 1;
        require(h.rows() == (long) groups * kDim && h.cols() == kDim, "gram: " + h + " for " + groups + " groups of " + kDim);
        float[] xa = floats(x);
        int[] index = rowIndex == null ? null : downloadInts(rowIndex);
        float[] weight = rowWeight == null ? null : floats(rowWeight);
        for (int g = 0; g < groups; g++) {
            if (h.type() == TensorType.F64) {
                GramKernel.accumulate((double[]) h.storage(), off(h) + g * kDim * kDim, kDim, xa, index, weight, offsets[g], offsets[g + 1], alpha);
            } else { // a device-like F32 accumulator (tests of the device solver path on the CPU)
                double[] tmp = new double[kDim * kDim];
                GramKernel.accumulate(tmp, 0, kDim, xa, index, weight, offsets[g], offsets[g + 1], alpha);
                float[] ha = f32(h);
                int base = off(h) + g * kDim * kDim;
                for (int i = 0; i < tmp.length; i++) ha[base + i] += (float) tmp[i];
            }
        }
    }

    @Override
    public double[] sumSquaresByGroup(Tensor y, int[] rowOffsets, int colFrom, int colTo) {
        float[] a = f32(y);
        int c = y.cols();
        double[] out = new double[rowOffsets.length - 1];
        int yo = off(y);
        // groups in parallel, each summed in the same order as one thread would
        forRowChunks(out.length, (long) (rowOffsets[out.length] - rowOffsets[0]) * (colTo - colFrom), (g0, g1) -> {
            for (int g = g0; g < g1; g++) {
                double s = 0;
                for (int r = rowOffsets[g]; r < rowOffsets[g + 1]; r++) {
                    int b = yo + r * c;
                    for (int i = colFrom; i < colTo; i++) s += (double) a[b + i] * a[b + i];
                }
                out[g] = s;
            }
        });
        return out;
    }

    @Override
    public void tokenStats(Tensor logits, Tensor targets, Tensor reference, Tensor out) {
        int rows = logits.rowCount(), vocab = logits.cols();
        float[] p = floats(logits), r = reference == null ? null : floats(reference), o = f32(out);
        int[] tg = downloadInts(targets);
        CpuThreads.forEach(CpuThreads.sharedPool(), rows, row -> { // the kernels' threads, not the common pool's
            double lse = logSumExp(p, row * vocab, vocab);
            int target = tg[row];
            double nll = target < 0 ? 0 : lse - p[row * vocab + target];
            double kl = 0;
            int refArg = -1;
            if (r != null) {
                double rlse = logSumExp(r, row * vocab, vocab);
                for (int v = 0; v < vocab; v++) {
                    double lr = r[row * vocab + v] - rlse, lq = p[row * vocab + v] - lse;
                    kl += Math.exp(lr) * (lr - lq);
                }
                refArg = argmax(r, row * vocab, vocab);
            }
            int b = off(out) + row * 4;
            o[b] = (float) nll;
            o[b + 1] = (float) kl;
            o[b + 2] = argmax(p, row * vocab, vocab);
            o[b + 3] = refArg;
        });
    }

    private static double logSumExp(float[] a, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, a[from + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(a[from + i] - max);
        return max + Math.log(sum);
    }

    private static int argmax(float[] a, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (a[from + i] > a[from + best]) best = i;
        return best;
    }

    @Override public void close() {}
}
