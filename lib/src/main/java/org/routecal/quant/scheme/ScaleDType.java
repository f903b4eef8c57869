package org.routecal.quant.scheme;

/**
 * The dtype scales are stored in (compressed-tensors gives int and FP8 scales the weight's dtype). Scales are rounded
 * to it before use, and dequantized values are rounded to it too, because compressed-tensors dequantizes in the scale
 * dtype ({@code x_q.to(scale.dtype) * scale}).
 */
public enum ScaleDType {
    F32, BF16, F16;

    /** Rounds a float to this dtype (RNE). */
    public float round(float x) {
        return switch (this) {
            case F32 -> x;
            case BF16 -> FloatFormats.roundBf16(x);
            case F16 -> FloatFormats.roundF16(x);
        };
    }

    /** The safetensors dtype name (BF16, F16, F32). */
    public String safetensorsName() {
        return name();
    }

    /** Parses a safetensors or torch dtype name ("BF16", "bfloat16", "torch.float16", …). */
    public static ScaleDType parse(String s) {
        String n = s.toLowerCase(java.util.Locale.ROOT).replace("torch.", "");
        return switch (n) {
            case "bf16", "bfloat16" -> BF16;
            case "f16", "fp16", "float16", "half" -> F16;
            case "f32", "fp32", "float32", "float" -> F32;
            default -> throw new IllegalArgumentException("unknown scale dtype '" + s + "' (expected bf16, f16 or f32)");
        };
    }
}
