package org.routecal.quant;

import org.routecal.RoutecalException;
import org.routecal.compute.Backend;
import org.routecal.model.family.ModelConfig;

/**
 * Peak-memory estimate of the quantize stage on its backend, checked before any work. The stage keeps: the residual
 * stream of every calibration token (plus one batch's scratch copy and temporaries), one MoE layer's block input,
 * one layer's weights in the backend's cache, the Hessians of the modules that see all tokens, and ONE expert's
 * Hessians with its factorisation (experts are solved one at a time). All-token expert statistics add the
 * activation of one expert over every token. Refuses with the estimate when it exceeds what the backend can allocate.
 */
final class MemoryEstimate {
    private MemoryEstimate() {}

    static long bytes(ModelConfig c, long tokens, QuantizeOptions o, boolean host) {
        boolean anyDense = false;
        for (int l = 0; l < c.layerCount(); l++) anyDense |= !c.isMoeLayer(l);
        long h = c.hiddenSize(), inter = Math.max(c.expertIntermediateSize(), 1), dense = anyDense ? Math.max(c.intermediateSize(), 1) : 0;
        long shared = c.expertSharedIntermediateSize(), attnOut = (long) c.headCount() * c.headDim();
        long kvOut = 2L * c.headCountKv() * c.headDim();
        long hBytes = host ? 8 : 4; // Hessians: double on the CPU reference, float on a device
        long batch = Math.min(tokens, QuantizeStage.BATCH_TOKENS);
        // activations: residual of all tokens, block input of all tokens, one batch's copy and layer temporaries
        long acts = 4L * tokens * h * 2 + 4L * batch * (h * 3 + attnOut * 2 + kvOut + (long) c.expertUsedCount() * (inter * 3 + h));
        // one layer's weights as the backend holds them (fp32 on the CPU) and the host copies of one module group
        long weightBytes = host ? 4 : 2;
        long layerWeights = weightBytes * ((long) c.expertCount() * 3 * h * inter + h * (attnOut * 2 + kvOut) + 3 * h * Math.max(dense, shared));
        long hostGroup = 4L * 2 * Math.max(Math.max(h * attnOut, 2 * h * inter), 2 * h * Math.max(dense, shared)) * 2;
        long hess = 0;
        if (o.gptq()) {
            long denseH = h * h + attnOut * attnOut + dense * dense + shared * shared + h * h; // q/k/v, o, dense, shared, block input
            long expertH = 3 * h * h + 3 * inter * inter;      // routed, all and combined parts of gate/up and down
            long maxCols = Math.max(Math.max(h, attnOut), Math.max(dense, inter));
            long factor = maxCols * maxCols * (8 * 2 + 4);      // permuted copy, inverse (double) and U (float), host
            hess = hBytes * (denseH + expertH) + 8 * (h * h * 2) + factor;
        }
        boolean allTokens = o.moeMode() == MoeMode.ALL || o.moeMode() == MoeMode.HYBRID || o.fallbackToAll();
        long allActs = allTokens ? 4L * tokens * inter * 3 : 0;
        return acts + layerWeights + hostGroup + hess + allActs;
    }

    static void check(ModelConfig c, long tokens, QuantizeOptions o, Backend backend) {
        boolean host = backend.device().kind().equals("cpu");
        long need = bytes(c, tokens, o, host);
        long available = backend.memoryAvailable();
        if (need > available) {
            throw new RoutecalException(String.format("quantize needs about %.2f GiB on %s (activations of %d calibration tokens, "
                    + "one layer's weights, one expert's Hessians) but only %.2f GiB is available; %s",
                    need / 1073741824.0, backend.device().kind(), tokens, available / 1073741824.0,
                    host ? "raise ROUTECAL_HEAP (-Xmx) or use fewer calibration tokens (--max-samples, --max-tokens-per-sample)"
                         : "use fewer calibration tokens (--max-samples, --max-tokens-per-sample)"));
        }
    }
}
