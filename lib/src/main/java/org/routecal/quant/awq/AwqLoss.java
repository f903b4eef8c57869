package org.routecal.quant.awq;

import java.util.List;

/**
 * The output error a grid point is judged by: llm-compressor runs the balance layers' common parent (the attention
 * block for q/k/v, the MoE block for router + experts' gate/up, the Linear itself for down_proj) on cached inputs with
 * fake-quantized balance weights and takes the mean squared difference from the unquantized output.
 * Implementations: {@link LinearOutputLoss}, {@link MoeBlockLoss}; the model code supplies one for attention.
 */
@FunctionalInterface
public interface AwqLoss {
    /**
     * Mean squared output error with these weights in place of the balances' own.
     *
     * @param weights one [rows, cols] row-major array per balance, in the problem's order: Q(W·s)/s for quantized
     *                balances, the original weight for the others
     */
    double loss(List<float[]> weights);
}
