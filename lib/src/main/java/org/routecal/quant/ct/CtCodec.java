package org.routecal.quant.ct;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.routecal.RoutecalException;
import org.routecal.io.safetensors.DType;
import org.routecal.io.safetensors.DTypeCodec;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.quant.scheme.FloatFormats;
import org.routecal.quant.scheme.Fp8Scheme;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantParams;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.ScaleDType;

/**
 * One quantized module ↔ its compressed-tensors tensors (suffixes of the module name):
 * <pre>
 * int  (pack-quantized):       weight_packed I32 [out, ceil(in·bits/32)], weight_scale &lt;dtype&gt; [out, groups],
 *                              weight_shape I64 [2], weight_zero_point I32 [ceil(out·bits/32), groups] (asymmetric),
 *                              weight_g_idx I32 [in] (group act-order)
 * fp8  (naive-quantized):      weight F8_E4M3 [out, in], weight_scale &lt;dtype&gt; [out, 1] or [1]
 * nvfp4 (nvfp4-pack-quantized): weight_packed U8 [out, in/2], weight_scale F8_E4M3 [out, in/16],
 *                              weight_global_scale F32 [1]
 * </pre>
 */
public final class CtCodec {
    private CtCodec() {}

    /** A tensor to write: name, dtype, shape, little-endian bytes. */
    public record CtTensor(String name, DType dtype, long[] shape, byte[] data) {}

    static DType dtypeOf(ScaleDType s) {
        return switch (s) {
            case F32 -> DType.F32;
            case BF16 -> DType.BF16;
            case F16 -> DType.F16;
        };
    }

    static ScaleDType scaleDtypeOf(DType d, String where) {
        return switch (d) {
            case F32 -> ScaleDType.F32;
            case BF16 -> ScaleDType.BF16;
            case F16 -> ScaleDType.F16;
            default -> throw new RoutecalException(where + ": weight_scale has dtype " + d + " (expected BF16, F16 or F32)");
        };
    }

    /** The tensors of one quantized module. */
    public static List<CtTensor> encode(String module, QuantizedWeight q) {
        List<CtTensor> out = new ArrayList<>();
        int rows = q.rows(), cols = q.cols();
        QuantParams p = q.params();
        QuantScheme s = q.scheme();
        if (s instanceof IntScheme is) {
            int bits = is.bits();
            out.add(new CtTensor(module + ".weight_packed", DType.I32, new long[]{rows, CtPacking.packedCols(cols, bits)},
                    ints(CtPacking.packInt(q.codes(), rows, cols, bits))));
            out.add(new CtTensor(module + ".weight_scale", dtypeOf(is.scaleDtype()), new long[]{rows, p.groups()},
                    DTypeCodec.encode(p.scales(), dtypeOf(is.scaleDtype()))));
            out.add(new CtTensor(module + ".weight_shape", DType.I64, new long[]{2}, longs(new long[]{rows, cols})));
            if (p.zeros() != null) {
                out.add(new CtTensor(module + ".weight_zero_point", DType.I32, new long[]{CtPacking.packedCols(rows, bits), p.groups()},
                        ints(CtPacking.packAlongRows(p.zeros(), rows, p.groups(), bits))));
            }
            if (q.gIdx() != null) out.add(new CtTensor(module + ".weight_g_idx", DType.I32, new long[]{cols}, ints(q.gIdx())));
        } else if (s instanceof Fp8Scheme fs) {
            byte[] w = new byte[rows * cols];
            for (int i = 0; i < w.length; i++) w[i] = (byte) q.codes()[i];
            out.add(new CtTensor(module + ".weight", DType.F8_E4M3, new long[]{rows, cols}, w));
            long[] shape = fs.perTensor() ? new long[]{1} : new long[]{rows, 1};
            out.add(new CtTensor(module + ".weight_scale", dtypeOf(fs.scaleDtype()), shape, DTypeCodec.encode(p.scales(), dtypeOf(fs.scaleDtype()))));
        } else if (s instanceof Nvfp4Scheme) {
            out.add(new CtTensor(module + ".weight_packed", DType.U8, new long[]{rows, cols / 2}, CtPacking.packFp4(q.codes(), rows, cols)));
            byte[] sc = new byte[p.scales().length];
            for (int i = 0; i < sc.length; i++) sc[i] = (byte) FloatFormats.encodeE4m3(p.scales()[i]);
            out.add(new CtTensor(module + ".weight_scale", DType.F8_E4M3, new long[]{rows, p.groups()}, sc));
            out.add(new CtTensor(module + ".weight_global_scale", DType.F32, new long[]{1}, floats(new float[]{p.globalScale()})));
        }
        return out;
    }

    /**
     * Bytes the tensors {@link #encode} writes for one [rows, cols] module take in the checkpoint (packed codes, scales,
     * zero points, shape, g_idx, global scale): the honest storage cost, overhead included, that bit allocation budgets.
     *
     * @param gIdx true when group act-order stores {@code weight_g_idx}
     */
    public static long storedBytes(QuantScheme s, int rows, int cols, boolean gIdx) {
        if (s instanceof IntScheme is) {
            int bits = is.bits();
            long groups = cols / s.groupSize(cols);
            long bytes = 4L * rows * CtPacking.packedCols(cols, bits)        // weight_packed
                    + (long) rows * groups * dtypeOf(is.scaleDtype()).byteSize()  // weight_scale
                    + 8L * 2;                                                 // weight_shape
            if (!is.symmetric()) bytes += 4L * CtPacking.packedCols(rows, bits) * groups; // weight_zero_point
            if (gIdx && groups > 1) bytes += 4L * cols;                                    // weight_g_idx
            return bytes;
        }
        if (s instanceof Fp8Scheme fs) return (long) rows * cols + (fs.perTensor() ? 1L : rows) * dtypeOf(fs.scaleDtype()).byteSize();
        return (long) rows * cols / 2 + (long) rows * (cols / Nvfp4Scheme.GROUP_SIZE) + 4;
    }

    /** True when {@code module} is stored quantized in {@code ckpt} (has a weight_scale). */
    public static boolean isQuantized(SafetensorsCheckpoint ckpt, String module) {
        return ckpt.contains(module + ".weight_scale");
    }

    /** [out, in] of a quantized module as stored. */
    public static long[] shape(SafetensorsCheckpoint ckpt, String module, CtQuantConfig cfg) {
        if (ckpt.contains(module + ".weight_shape")) return ckpt.readLong(module + ".weight_shape");
        if (ckpt.contains(module + ".weight") && !ckpt.contains(module + ".weight_packed")) return ckpt.info(module + ".weight").shape();
        long[] packed = ckpt.info(module + ".weight_packed").shape();
        return new long[]{packed[0], packed[1] * 2}; // nvfp4: two values per byte
    }

    /** Decodes one module back to its codes and parameters (the format proof compares these bit-exactly). */
    public static QuantizedWeight decode(SafetensorsCheckpoint ckpt, String module, CtQuantConfig cfg, ScaleDType modelDtype) {
        String where = ckpt.source() + ": module " + module;
        long[] shape = shape(ckpt, module, cfg);
        int rows = Math.toIntExact(shape[0]), cols = Math.toIntExact(shape[1]);
        DType scaleType = ckpt.info(module + ".weight_scale").dtype();
        float[] scales = ckpt.readFloat(module + ".weight_scale");
        QuantScheme scheme = cfg.schemeFor(module, scaleType == DType.F8_E4M3 ? modelDtype : scaleDtypeOf(scaleType, where));
        scheme.validate(module, rows, cols);
        int gs = scheme.groupSize(cols);
        if (scheme instanceof IntScheme is) {
            int bits = is.bits();
            int[] codes = CtPacking.unpackInt(ckpt.readInt(module + ".weight_packed"), rows, cols, bits);
            int groups = scales.length / rows;
            int[] zeros = null;
            if (!is.symmetric()) {
                if (!ckpt.contains(module + ".weight_zero_point")) throw new RoutecalException(where + ": asymmetric scheme but no weight_zero_point");
                zeros = CtPacking.unpackAlongRows(ckpt.readInt(module + ".weight_zero_point"), rows, groups, bits);
            }
            int[] gIdx = ckpt.contains(module + ".weight_g_idx") ? ckpt.readInt(module + ".weight_g_idx") : null;
            return new QuantizedWeight(scheme, rows, cols, codes, new QuantParams(scales, zeros, rows, groups, Float.NaN), gs, gIdx);
        }
        if (scheme instanceof Fp8Scheme) {
            byte[] raw = ckpt.readBytes(module + ".weight");
            int[] codes = new int[raw.length];
            for (int i = 0; i < raw.length; i++) codes[i] = raw[i] & 0xFF;
            int scaleRows = scales.length == 1 ? 1 : rows;
            return new QuantizedWeight(scheme, rows, cols, codes, new QuantParams(scales, null, scaleRows, 1, Float.NaN), cols, null);
        }
        int[] codes = CtPacking.unpackFp4(ckpt.readBytes(module + ".weight_packed"));
        float gsc = ckpt.readFloat(module + ".weight_global_scale")[0];
        return new QuantizedWeight(scheme, rows, cols, codes, new QuantParams(scales, null, rows, cols / Nvfp4Scheme.GROUP_SIZE, gsc),
                Nvfp4Scheme.GROUP_SIZE, null);
    }

    static byte[] ints(int[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(v);
        return b.array();
    }

    static byte[] longs(long[] v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(v);
        return b.array();
    }

    static byte[] floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }
}
