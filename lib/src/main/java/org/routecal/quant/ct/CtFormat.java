package org.routecal.quant.ct;

import java.util.Locale;

/** The compressed-tensors formats we write, one per scheme kind (research/llmcompressor.md §3.2–3.4). */
public enum CtFormat {
    /** int weights packed in int32: weight_packed, weight_scale, weight_shape [, weight_zero_point] [, weight_g_idx]. */
    PACK_QUANTIZED("pack-quantized"),
    /** FP8 E4M3 weight-only: weight (F8_E4M3), weight_scale. */
    NAIVE_QUANTIZED("naive-quantized"),
    /** NVFP4: weight_packed (U8), weight_scale (F8_E4M3), weight_global_scale (F32 [1]). */
    NVFP4_PACK_QUANTIZED("nvfp4-pack-quantized");

    /** The top-level format of a config whose groups have different formats (compressed-tensors' mixed_precision). */
    public static final String MIXED_PRECISION_ID = "mixed-precision";

    public final String id;

    CtFormat(String id) {
        this.id = id;
    }

    public static CtFormat parse(String s) {
        for (CtFormat f : values()) if (f.id.equals(s.toLowerCase(Locale.ROOT))) return f;
        throw new IllegalArgumentException("unsupported compressed-tensors format '" + s + "' (supported: pack-quantized, naive-quantized, nvfp4-pack-quantized)");
    }
}
