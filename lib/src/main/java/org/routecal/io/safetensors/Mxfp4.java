package org.routecal.io.safetensors;

import org.routecal.RoutecalException;

/**
 * MXFP4 as GPT-OSS ships its experts: {@code <name>_blocks} U8 [experts, out, groups, 16] (32 e2m1 values per group,
 * two per byte, the low nibble first) and {@code <name>_scales} U8 [experts, out, groups] (e8m0: 2^(s − 127) per
 * group of 32 along the input). The parameter it encodes is [experts, in, out] (transformers' GptOssExperts layout:
 * convert_moe_packed_tensors decodes [experts, out, in] and transposes the last two), in = 32 × groups. Every
 * decoded value is exactly fp4 × 2^k, as transformers computes it with ldexp (checked by the gpt_oss_mxfp4 fixture).
 */
public final class Mxfp4 {
    public static final int GROUP = 32;

    private Mxfp4() {}

    /** Decodes to [experts, in, out] float32. */
    public static float[] decodeTransposed(byte[] blocks, byte[] scales, int experts, int out, int groups, String tensor) {
        int in = groups * GROUP;
        if ((long) experts * out * groups * (GROUP / 2) != blocks.length || (long) experts * out * groups != scales.length) {
            throw new RoutecalException(tensor + ": MXFP4 blocks (" + blocks.length + " bytes) and scales (" + scales.length
                    + ") do not match [" + experts + ", " + out + ", " + groups + ", 16] (truncated checkpoint?)");
        }
        float[] result = new float[blocks.length * 2];
        for (int e = 0; e < experts; e++) {
            for (int o = 0; o < out; o++) {
                for (int g = 0; g < groups; g++) {
                    int s = (e * out + o) * groups + g;
                    int exp = (scales[s] & 0xFF) - 127;
                    for (int b = 0; b < GROUP / 2; b++) {
                        int packed = blocks[s * (GROUP / 2) + b] & 0xFF;
                        int i = g * GROUP + 2 * b;
                        // [e, i, o] of the transposed parameter
                        result[(e * in + i) * out + o] = Math.scalb(DTypeCodec.e2m1ToFloat(packed), exp);
                        result[(e * in + i + 1) * out + o] = Math.scalb(DTypeCodec.e2m1ToFloat(packed >>> 4), exp);
                    }
                }
            }
        }
        return result;
    }
}
