package org.routecal.quant;

import org.routecal.RoutecalException;
import org.routecal.model.ModelConfig;
import org.routecal.quant.scheme.QuantScheme;

/**
 * Peak-memory estimate of the quantize stage, checked before any work: one layer's Hessians (doubles; per expert a
 * gate/up and a down Hessian, doubled when two parts are kept), one factorisation workspace, activations and one
 * layer's weights in float32. Refuses with the estimate when it exceeds what the JVM may still allocate.
 */
final class MemoryEstimate {
    private MemoryEstimate() {}

    static long bytes(ModelConfig c, int tokens, QuantizeOptions o) {
        boolean anyDense = false;
        for (int l = 0; l < c.layerCount(); l++) anyDense |= !c.isMoeLayer(l);
        long h = c.hiddenSize(), inter = Math.max(c.expertIntermediateSize(), 1), dense = anyDense ? Math.max(c.intermediateSize(), 1) : 0;
        long attnOut = (long) c.headCount() * c.headDim();
        long hess = 0, layerWeights = 0;
        if (o.gptq()) {
            int parts = o.moeMode() == MoeMode.HYBRID || o.fallbackToAll() ? 2 : 1;
            hess = h * h + attnOut * attnOut + h * h; // q/k/v, o_proj, block input (all tokens)
            hess += (long) c.expertCount() * parts * (h * h + inter * inter);
            hess += c.expertSharedIntermediateSize() > 0 ? h * h + (long) c.expertSharedIntermediateSize() * c.expertSharedIntermediateSize() : 0;
            hess += dense * dense;
            hess *= 8;
            long maxCols = Math.max(Math.max(h, attnOut), dense);
            hess += maxCols * maxCols * (8 * 3 + 4); // permuted copy, factor, inverse (double) + U (float)
        }
        // the model's float32 copy of the layer, the quantizer's working copy, and the dequantized overrides
        layerWeights = 4L * ((long) c.expertCount() * 3 * h * inter + 4 * h * attnOut + 3 * h * dense) * 3;
        long acts = 4L * tokens * (h * 4 + (long) inter * 3 + attnOut);
        return hess + layerWeights + acts;
    }

    static void check(ModelConfig c, int tokens, QuantizeOptions o, QuantScheme scheme) {
        long need = bytes(c, tokens, o);
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (need > available) {
            throw new RoutecalException(String.format("quantize needs about %.2f GiB (one layer's Hessians for %d experts, "
                    + "activations of %d tokens, one layer's weights) but only %.2f GiB is available to the JVM; raise -Xmx, "
                    + "use fewer calibration tokens, or --moe-mode routed/weighted with --min-token-fallback rtn (one Hessian part per expert)",
                    need / 1073741824.0, c.expertCount(), tokens, available / 1073741824.0));
        }
    }
}
