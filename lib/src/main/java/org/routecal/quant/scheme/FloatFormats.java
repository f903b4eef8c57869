package org.routecal.quant.scheme;

/**
 * Rounding to the small float formats the quantization grids use (BF16, F16, FP8 E4M3FN, FP4 E2M1), exactly as
 * PyTorch casts do: round half to even, subnormals kept. Pure functions; the quant package keeps its own copy
 * because the grids must match compressed-tensors bit for bit and are tested against it.
 */
public final class FloatFormats {
    private FloatFormats() {}

    /** Largest finite FP8 E4M3FN value. */
    public static final float E4M3_MAX = 448f;
    /** Largest FP4 E2M1 value. */
    public static final float E2M1_MAX = 6f;
    /** The eight E2M1 magnitudes, indexed by the low three bits of a code (bit 3 is the sign). */
    private static final float[] E2M1_VALUES = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f};

    /** Rounds to the nearest value with {@code mantissaBits} explicit bits, normals from 2^minExp; NaN stays NaN. */
    static float roundTo(float x, int mantissaBits, int minExp, float maxFinite) {
        if (x == 0f || Float.isNaN(x) || Float.isInfinite(x)) return x;
        double a = Math.abs((double) x);
        int e = Math.max(Math.getExponent(a), minExp); // below the normal range the quantum stays fixed (subnormals)
        double quantum = Math.scalb(1.0, e - mantissaBits);
        double r = Math.rint(a / quantum) * quantum; // a/quantum is exact (power of two); rint = half to even
        if (r > maxFinite) r = Double.POSITIVE_INFINITY;
        return (float) Math.copySign(r, x);
    }

    /** BF16 rounding (RNE), returned as a float. */
    public static float roundBf16(float x) {
        if (Float.isNaN(x)) return x;
        int bits = Float.floatToRawIntBits(x);
        bits += 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(bits & 0xFFFF0000);
    }

    /** F16 rounding (RNE, overflow to infinity), returned as a float. */
    public static float roundF16(float x) {
        return roundTo(x, 10, -14, 65504f);
    }

    /** FP8 E4M3FN rounding (RNE); the caller clamps to ±448 first, as compressed-tensors does. */
    public static float roundE4m3(float x) {
        float r = roundTo(x, 3, -6, E4M3_MAX);
        return Float.isInfinite(r) ? Float.NaN : r; // E4M3FN has no infinity: torch casts overflow to NaN
    }

    /** The E4M3FN byte of a value already on the grid (see {@link #roundE4m3}). */
    public static int encodeE4m3(float v) {
        int sign = (Float.floatToRawIntBits(v) >>> 31) << 7;
        if (Float.isNaN(v)) return 0x7F;
        float a = Math.abs(v);
        if (a == 0f) return sign;
        int e = Math.getExponent(a);
        if (e < -6) return sign | Math.round(a * 512f); // subnormal: multiples of 2^-9
        int mant = Math.round((Math.scalb(a, -e) - 1f) * 8f);
        return sign | ((e + 7) << 3) | mant;
    }

    /** Value of an E4M3FN byte. */
    public static float decodeE4m3(int b) {
        int exp = (b >>> 3) & 0xF;
        int mant = b & 0x7;
        if (exp == 0xF && mant == 0x7) return Float.NaN;
        float mag = exp == 0 ? mant / 512f : Math.scalb(1f + mant / 8f, exp - 7);
        return (b & 0x80) != 0 ? -mag : mag;
    }

    /**
     * The E2M1 code (bit 3 sign, bits 0–2 magnitude index) of {@code x}, rounded as compressed-tensors'
     * {@code cast_to_fp4}: half to even on the grid {0, 0.5, 1, 1.5, 2, 3, 4, 6}; the caller clamps to ±6 first.
     * A negative input that rounds to zero keeps its sign bit, as {@code sign(x)·0 = -0.0} does there.
     */
    public static int encodeE2m1(float x) {
        float a = Math.abs(x);
        int idx;
        if (a <= 0.25f) idx = 0;
        else if (a < 0.75f) idx = 1;
        else if (a <= 1.25f) idx = 2;
        else if (a < 1.75f) idx = 3;
        else if (a <= 2.5f) idx = 4;
        else if (a < 3.5f) idx = 5;
        else if (a <= 5f) idx = 6;
        else idx = 7;
        return (x < 0f ? 8 : 0) | idx;
    }

    /** Value of an E2M1 code. */
    public static float decodeE2m1(int code) {
        float v = E2M1_VALUES[code & 7];
        return (code & 8) != 0 ? -v : v;
    }
}
