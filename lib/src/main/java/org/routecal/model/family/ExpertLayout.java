package org.routecal.model.family;

/**
 * How a family stores its routed experts on disk (the four flags llm-compressor's LinearExperts2D needs).
 *
 * @param packed3d     all experts in one 3-D tensor per projection ([experts, out, in] or transposed) instead of one
 *                     2-D Linear per expert (GPT-OSS, Llama4)
 * @param fusedGateUp  gate and up projections concatenated in one tensor (first half gate, second half up), or
 *                     interleaved when {@code interleavedGateUp}
 * @param interleavedGateUp even rows gate, odd rows up (GPT-OSS)
 * @param transposed   packed tensors stored [experts, in, out] (Llama4, GPT-OSS) rather than [experts, out, in]
 * @param bias         projections carry biases
 */
public record ExpertLayout(boolean packed3d, boolean fusedGateUp, boolean interleavedGateUp, boolean transposed, boolean bias) {
    public static ExpertLayout perExpert2d() { return new ExpertLayout(false, false, false, false, false); }

    public static ExpertLayout packed3dFusedTransposed(boolean interleaved, boolean bias) {
        return new ExpertLayout(true, true, interleaved, true, bias);
    }
}
