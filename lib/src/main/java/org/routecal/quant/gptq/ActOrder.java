package org.routecal.quant.gptq;

import java.util.Locale;

/**
 * GPTQ activation ordering (llm-compressor's {@code actorder}): columns are processed in descending order of the
 * Hessian diagonal. STATIC ("weight") keeps the groups of the original columns (scales observed before permuting);
 * GROUP re-observes scales on contiguous groups of the permuted columns and stores {@code weight_g_idx}.
 */
public enum ActOrder {
    NONE, STATIC, GROUP;

    /** Parses none|static|weight|group (case-insensitive). */
    public static ActOrder parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "none", "false", "null" -> NONE;
            case "static", "weight" -> STATIC;
            case "group", "dynamic" -> GROUP;
            default -> throw new IllegalArgumentException("unknown act-order '" + s + "' (expected none, static or group)");
        };
    }

    /** The value written to compressed-tensors' {@code actorder} field (null for NONE). */
    public String configValue() {
        return this == NONE ? null : name().toLowerCase(Locale.ROOT);
    }
}
