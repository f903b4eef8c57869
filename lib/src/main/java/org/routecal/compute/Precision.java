package org.routecal.compute;

import java.util.Locale;
import org.routecal.RoutecalException;

/**
 * The numeric mode of the forward pass (issue: "numerics, defined and tested").
 * <ul>
 *   <li>{@link #BF16}: what HF transformers computes for a bf16 checkpoint — bf16 weights, activations rounded to bf16
 *       at every matrix product, fp32 accumulation; norms, softmax, attention and the residual stream in fp32.</li>
 *   <li>{@link #FP32}: weights widened to fp32 and fp32 products everywhere; equals HF in fp32 (the CPU parity
 *       tolerances).</li>
 * </ul>
 * {@code auto} resolves to the checkpoint's dtype on a GPU (BF16 for a bf16 checkpoint, FP32 otherwise) and to FP32
 * on the CPU, which is the reference every other path is checked against.
 */
public enum Precision {
    BF16, FP32;

    /** Parses bf16|fp32|auto; null means auto. */
    public static Precision parseOrAuto(String s) {
        if (s == null) return null;
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> null;
            case "bf16" -> BF16;
            case "fp32" -> FP32;
            default -> throw new RoutecalException("--precision: unknown value '" + s + "' (expected auto, bf16 or fp32)");
        };
    }

    public String id() { return name().toLowerCase(Locale.ROOT); }
}
