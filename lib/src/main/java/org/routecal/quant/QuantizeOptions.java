package org.routecal.quant;

import java.util.List;
import org.routecal.quant.alloc.AllocationOptions;
import org.routecal.quant.awq.AwqArgs;
import org.routecal.quant.gptq.GptqArgs;

/**
 * Parameters of the quantize stage.
 *
 * @param scheme        w2a16 … w8a16 | fp8 | nvfp4 (with an allocation: the width of every module outside the routed experts)
 * @param symmetric     int schemes: symmetric (no zero point)
 * @param groupSize     int schemes: input columns per scale group; 0 = per output channel
 * @param fp8PerTensor  fp8: one scale per tensor instead of per output channel
 * @param gptq          true = GPTQ, false = RTN
 * @param gptqArgs      block size, damping, act-order
 * @param moeMode       how expert Hessians are built
 * @param hybridLambda  λ of the hybrid mode (0.5)
 * @param minTokens     experts with fewer routed tokens fall back (never to zeroed weights)
 * @param fallbackToAll true: fall back to the all-token Hessian; false: to RTN
 * @param sequential    calibrate layer L on the outputs of the already-quantized layers before it
 * @param ignore        ignore rules (exact names, re:REGEX); null = the family's defaults
 * @param overwrite     replace an existing output directory
 * @param awq           AWQ before GPTQ/RTN with these grid settings, or null for none
 * @param allocation    per-expert bit allocation under a budget, or null: every expert at {@code scheme}
 */
public record QuantizeOptions(String scheme, boolean symmetric, int groupSize, boolean fp8PerTensor, boolean gptq,
                              GptqArgs gptqArgs, MoeMode moeMode, double hybridLambda, int minTokens,
                              boolean fallbackToAll, boolean sequential, List<String> ignore, boolean overwrite,
                              AwqArgs awq, AllocationOptions allocation) {
    /** Without AWQ and bit allocation. */
    public QuantizeOptions(String scheme, boolean symmetric, int groupSize, boolean fp8PerTensor, boolean gptq,
                           GptqArgs gptqArgs, MoeMode moeMode, double hybridLambda, int minTokens,
                           boolean fallbackToAll, boolean sequential, List<String> ignore, boolean overwrite) {
        this(scheme, symmetric, groupSize, fp8PerTensor, gptq, gptqArgs, moeMode, hybridLambda, minTokens, fallbackToAll, sequential,
                ignore, overwrite, null, null);
    }

    /** The same with AWQ (null: without). */
    public QuantizeOptions withAwq(AwqArgs a) {
        return new QuantizeOptions(scheme, symmetric, groupSize, fp8PerTensor, gptq, gptqArgs, moeMode, hybridLambda, minTokens,
                fallbackToAll, sequential, ignore, overwrite, a, allocation);
    }

    /** The same with a bit allocation (null: without). */
    public QuantizeOptions withAllocation(AllocationOptions a) {
        return new QuantizeOptions(scheme, symmetric, groupSize, fp8PerTensor, gptq, gptqArgs, moeMode, hybridLambda, minTokens,
                fallbackToAll, sequential, ignore, overwrite, awq, a);
    }

    /** The defaults: W4A16 symmetric g128 GPTQ (static act-order), hybrid λ = 0.5, min 32 tokens → all. */
    public static QuantizeOptions defaults() {
        return new QuantizeOptions("w4a16", true, 128, false, true, GptqArgs.DEFAULT, MoeMode.HYBRID, 0.5, 32, true, true,
                null, false);
    }

    public QuantizeOptions withGroupSize(int v) {
        return new QuantizeOptions(scheme, symmetric, v, fp8PerTensor, gptq, gptqArgs, moeMode, hybridLambda, minTokens, fallbackToAll, sequential,
                ignore, overwrite);
    }

    public QuantizeOptions withMoeMode(MoeMode v) {
        return new QuantizeOptions(scheme, symmetric, groupSize, fp8PerTensor, gptq, gptqArgs, v, hybridLambda, minTokens, fallbackToAll, sequential,
                ignore, overwrite);
    }

    /** The grid these options ask for, its scales stored in {@code dtype} (the weights' dtype). */
    public org.routecal.quant.scheme.QuantScheme scheme(org.routecal.quant.scheme.ScaleDType dtype) {
        return org.routecal.quant.scheme.QuantSchemes.parse(scheme, symmetric, groupSize, fp8PerTensor, dtype);
    }
}
