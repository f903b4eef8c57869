package org.routecal.quant.scheme;

import org.routecal.RoutecalException;

/**
 * A weight quantization grid, exactly as compressed-tensors computes it (see research/llmcompressor.md §2.2, §3.4).
 * Pure math: observe parameters from a weight, encode one value to its stored code, decode a code back.
 * Groups always cover contiguous input columns of the weight handed to {@link #observe}.
 */
public sealed interface QuantScheme permits IntScheme, Fp8Scheme, Nvfp4Scheme {

    /** Short name used on the CLI and in reports: w4a16, w8a16, fp8, nvfp4. */
    String name();

    /** Input columns per scale group for a weight with {@code cols} columns (cols itself for per-channel/tensor). */
    int groupSize(int cols);

    /** True when zero points are stored (asymmetric int). */
    default boolean hasZeroPoint() {
        return false;
    }

    /** Checks that the grid fits a [rows, cols] weight; the error names the module. */
    default void validate(String module, int rows, int cols) {
        int gs = groupSize(cols);
        if (gs <= 0 || cols % gs != 0) {
            throw new RoutecalException("module " + module + ": group size " + gs + " does not divide its "
                    + cols + " input columns (scheme " + name() + ")");
        }
    }

    /**
     * Observes min/max per group of {@code w} ([rows, cols] row-major) and returns scales and zero points.
     * {@code globalScale} is NVFP4's shared divisor (NaN: compute from this weight); other schemes ignore it.
     */
    QuantParams observe(float[] w, int rows, int cols, float globalScale);

    /** Observes with the scheme's own global scale where it has one. */
    default QuantParams observe(float[] w, int rows, int cols) {
        return observe(w, rows, cols, Float.NaN);
    }

    /** The stored code of value x (int: the signed integer; FP8: the E4M3 byte; NVFP4: the E2M1 nibble). */
    int encode(float x, float effectiveScale, int zero);

    /** The value of a code. */
    float decode(int code, float effectiveScale, int zero);

    /** Fake quantization: decode(encode(x)). */
    default float fakeQuantize(float x, float effectiveScale, int zero) {
        return decode(encode(x, effectiveScale, zero), effectiveScale, zero);
    }
}
