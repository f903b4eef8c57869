package org.routecal.io.safetensors;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Bit-exact conversions between f32 and the narrow float types of safetensors checkpoints, checked against
 * torch 2.13 CPU by {@code tests/make_safetensors_fixture.py}.
 *
 * <ul>
 *   <li>BF16: the high half of an f32; encode rounds to nearest even. A NaN stays a NaN with its sign kept
 *       ({@code bits>>>16 | 0x0040}); torch itself is not consistent here (0x7FC0 from its scalar path, 0xFFFF
 *       from its vectorised path), so NaN bit patterns are not part of the contract.</li>
 *   <li>F16: IEEE binary16 with subnormals; encode rounds to nearest even, overflows to ±inf, NaN → sign|0x7E00
 *       (as torch).</li>
 *   <li>F8_E4M3 ("e4m3fn"): 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities, max ±448,
 *       NaN = 0x7F/0xFF. Encode rounds to nearest even and <b>saturates</b> every value with |x| ≥ 448 —
 *       including ±inf — to ±448, which is what torch 2.13's {@code .to(torch.float8_e4m3fn)} does on CPU
 *       (checked: 449, 480, 1e6 and inf all give 0x7E). NaN → 0x7F with the sign kept.</li>
 * </ul>
 */
public final class DTypeCodec {
    private DTypeCodec() {}

    /** All 256 e4m3fn values, for table decoding. */
    private static final float[] FP8_TABLE = new float[256];

    static {
        for (int i = 0; i < 256; i++) FP8_TABLE[i] = fp8e4m3ToFloat((byte) i);
    }

    // ---- BF16 ----

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** f32 → bf16, round to nearest even. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x0040);
        // Adding 0x7FFF plus the lowest kept bit rounds ties to even; a carry into the exponent is correct
        // (it rounds up to the next binade or to inf).
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    // ---- F16 ----

    public static float f16ToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        if (exp == 0) {
            // Subnormal: mant × 2^-24, exact in f32.
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** f32 → f16, round to nearest even, subnormals kept, overflow → ±inf. */
    public static short floatToF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs > 0x7F800000) return (short) (sign | 0x7E00 | ((abs & 0x7FFFFF) >>> 13));
        if (abs >= 0x477FF000) return (short) (sign | 0x7C00); // ≥ 65520 rounds to inf (and inf itself)
        int exp = (abs >>> 23) - 127;
        if (exp < -14) {
            // Subnormal (or zero) in f16: value / 2^-24 rounded to an integer, ties to even. Exact in double.
            int m = (int) Math.rint(Math.abs((double) f) * 0x1p24);
            return (short) (sign | m); // m == 0x400 carries into the smallest normal, which is correct
        }
        int rounded = abs + 0xFFF + ((abs >>> 13) & 1);
        int hExp = ((rounded >>> 23) - 127 + 15);
        return (short) (sign | (hExp << 10) | ((rounded >>> 13) & 0x3FF));
    }

    // ---- F8_E4M3 (e4m3fn) ----

    public static float fp8e4m3ToFloat(byte b) {
        int v = b & 0xFF;
        boolean neg = (v & 0x80) != 0;
        int exp = (v >>> 3) & 0xF;
        int mant = v & 0x7;
        float r;
        if (exp == 0xF && mant == 0x7) return neg ? -Float.NaN : Float.NaN;
        if (exp == 0) r = mant * 0x1p-9f;
        else r = Float.intBitsToFloat(((exp - 7 + 127) << 23) | (mant << 20));
        return neg ? -r : r;
    }

    /** f32 → e4m3fn, round to nearest even, |x| ≥ 448 (and ±inf) saturate to ±448 as torch does. */
    public static byte floatToFp8e4m3(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 24) & 0x80;
        if (Float.isNaN(f)) return (byte) (sign | 0x7F);
        float a = Math.abs(f);
        if (a >= 448f) return (byte) (sign | 0x7E);
        if (a < 0x1p-6f) {
            // Subnormal range: a / 2^-9 rounded to an integer 0..8; 8 is exactly the smallest normal (0x08).
            return (byte) (sign | (int) Math.rint(a * 512.0));
        }
        int abs = bits & 0x7FFFFFFF;
        int rounded = abs + 0x7FFFF + ((abs >>> 20) & 1);
        int e = (rounded >>> 23) - 127 + 7;
        // Rounding can reach 480 (e=15, m=7) only from ≥ 464, which the saturation check above already took.
        return (byte) (sign | (e << 3) | ((rounded >>> 20) & 0x7));
    }

    // ---- E2M1 (fp4) and E8M0 (MX scales): not safetensors dtypes, packed in U8 by the formats that use them ----

    /** The 16 e2m1 values by code: sign in bit 3, then 0, 0.5, 1, 1.5, 2, 3, 4, 6 (OCP MX spec; transformers' FP4_VALUES). */
    private static final float[] E2M1 = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f, -0f, -0.5f, -1f, -1.5f, -2f, -3f, -4f, -6f};

    /** An e2m1 code (low 4 bits) as a float. */
    public static float e2m1ToFloat(int code) { return E2M1[code & 0xF]; }

    /** An e8m0 scale byte as the power of two it encodes: 2^(b − 127); 0xFF is NaN (OCP MX spec). */
    public static float e8m0ToFloat(int b) {
        int v = b & 0xFF;
        return v == 0xFF ? Float.NaN : Math.scalb(1f, v - 127);
    }

    // ---- bulk ----

    /** Decodes {@code n} elements of {@code dtype} from {@code src} (little-endian, at its position) into {@code dst[off..]}. */
    public static void decode(ByteBuffer src, DType dtype, float[] dst, int off, int n) {
        ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(dst, off, n);
            case BF16, F16 -> {
                // Bulk-copy chunks out of the (mapped) buffer, then widen: far faster than per-element getShort.
                java.nio.ShortBuffer sb = b.asShortBuffer();
                short[] chunk = new short[Math.min(n, 1 << 16)];
                for (int done = 0; done < n; ) {
                    int m = Math.min(chunk.length, n - done);
                    sb.get(chunk, 0, m);
                    if (dtype == DType.BF16) widenBf16(chunk, m, dst, off + done);
                    else for (int i = 0; i < m; i++) dst[off + done + i] = f16ToFloat(chunk[i]);
                    done += m;
                }
            }
            case F8_E4M3 -> {
                float[] table = FP8_TABLE;
                for (int i = 0; i < n; i++) dst[off + i] = table[b.get(p + i) & 0xFF];
            }
            case I8 -> { for (int i = 0; i < n; i++) dst[off + i] = b.get(p + i); }
            case U8 -> { for (int i = 0; i < n; i++) dst[off + i] = b.get(p + i) & 0xFF; }
            case I32 -> { for (int i = 0; i < n; i++) dst[off + i] = b.getInt(p + 4 * i); }
            case I64 -> { for (int i = 0; i < n; i++) dst[off + i] = b.getLong(p + 8 * i); }
        }
    }

    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> HALF_SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, INTS.vectorBitSize() / 2)));

    /** bf16 bits s[0, m) as floats into dst from off: as many shorts as the int vector has lanes, widened and shifted. */
    static void widenBf16(short[] s, int m, float[] dst, int off) {
        int i = 0;
        if (HALF_SHORTS.length() == INTS.length()) {
            for (int bound = INTS.loopBound(m); i < bound; i += INTS.length()) {
                ((IntVector) ShortVector.fromArray(HALF_SHORTS, s, i).convertShape(VectorOperators.S2I, INTS, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + i);
            }
        }
        for (; i < m; i++) dst[off + i] = Float.intBitsToFloat((s[i] & 0xFFFF) << 16);
    }

    /** Encodes floats as {@code dtype} (BF16, F16, F32 or F8_E4M3), little-endian. */
    public static byte[] encode(float[] src, DType dtype) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(src.length, dtype.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().put(src);
            case BF16 -> { for (float v : src) b.putShort(floatToBf16(v)); }
            case F16 -> { for (float v : src) b.putShort(floatToF16(v)); }
            case F8_E4M3 -> { for (float v : src) b.put(floatToFp8e4m3(v)); }
            default -> throw new IllegalArgumentException("encode floats as " + dtype + ": not a float type");
        }
        return b.array();
    }
}
