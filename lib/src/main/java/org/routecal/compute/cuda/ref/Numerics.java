package org.routecal.compute.cuda.ref;

/**
 * Bit-exact scalar conversions shared by the reference kernels: bf16 and FP8 E4M3 rounding as the CUDA intrinsics
 * ({@code __float2bfloat16_rn}, {@code __nv_fp8_e4m3} with saturation) and torch perform them, and FP4 E2M1 codes
 * with compressed-tensors' thresholds.
 */
public final class Numerics {
    private Numerics() {}

    /** Round-to-nearest-even to bf16, returned as the float it represents. NaN stays NaN. */
    public static float roundBf16(float f) {
        return Float.intBitsToFloat(bf16Bits(f) << 16);
    }

    /** bf16 bit pattern (round to nearest even). */
    public static int bf16Bits(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (bits >>> 16) | 0x40;
        int lsb = (bits >>> 16) & 1;
        return ((bits + 0x7FFF + lsb) >>> 16) & 0xFFFF;
    }

    /** FP8 E4M3 (fn variant: no infinities, max 448) code of f, round to nearest even, saturating to ±448. */
    public static int fp8e4m3Code(float f) {
        if (Float.isNaN(f)) return 0x7F;
        int sign = f < 0 || (f == 0 && 1 / f < 0) ? 0x80 : 0;
        double a = Math.abs((double) f);
        if (a >= 448) return sign | 0x7E;  // satfinite: everything past the largest finite value becomes ±448
        int code;
        if (a < Math.scalb(1.0, -6)) {
            // Subnormals step by 2^-9; a result of 8 is the smallest normal, whose encoding is the same integer.
            code = (int) roundHalfEven(a / Math.scalb(1.0, -9));
        } else {
            int e = Math.getExponent(a);
            double q = a / Math.scalb(1.0, e - 3);  // in [8, 16)
            long m = roundHalfEven(q);
            if (m == 16) { m = 8; e++; }
            code = Math.min(0x7E, ((e + 7) << 3) | (int) (m - 8));
        }
        return sign | code;
    }

    /** The float value of an FP8 E4M3 code. */
    public static float fp8e4m3Value(int code) {
        int sign = (code & 0x80) != 0 ? -1 : 1;
        int e = (code >>> 3) & 0xF, m = code & 7;
        if (e == 0xF && m == 7) return Float.NaN;
        double v = e == 0 ? m * Math.scalb(1.0, -9) : (8 + m) * Math.scalb(1.0, e - 10);
        return (float) (sign * v);
    }

    private static long roundHalfEven(double q) {
        double fl = Math.floor(q);
        double diff = q - fl;
        if (diff > 0.5) return (long) fl + 1;
        if (diff < 0.5) return (long) fl;
        return ((long) fl & 1) == 0 ? (long) fl : (long) fl + 1;
    }

    /** E2M1 magnitude values by code. */
    public static final float[] FP4_VALUES = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f};

    /** E2M1 magnitude code of a ≥ 0 (ties to the even code, as compressed-tensors' thresholds). */
    public static int fp4Code(float a) {
        if (a <= 0.25f) return 0;
        if (a < 0.75f) return 1;
        if (a <= 1.25f) return 2;
        if (a < 1.75f) return 3;
        if (a <= 2.5f) return 4;
        if (a < 3.5f) return 5;
        if (a <= 5f) return 6;
        return 7;
    }
}
