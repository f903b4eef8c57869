package org.routecal.eval;

import java.util.HashMap;
import java.util.Map;
import org.routecal.model.ForwardTaps;

/** Keeps each MoE layer's top-k ids and block input of one forward pass. */
final class RoutingRecorder implements ForwardTaps {
    final Map<Integer, int[]> topk = new HashMap<>();     // layer → [tokens, k]
    final Map<Integer, float[]> blockInput = new HashMap<>(); // layer → [tokens, hidden] (only when keepInputs)
    int topK;
    private final boolean keepInputs;

    RoutingRecorder(boolean keepInputs) {
        this.keepInputs = keepInputs;
    }

    @Override
    public void routing(int layer, int tokens, int topK, int[] topkIds, float[] topkWeights, float[] routerLogits) {
        this.topK = topK;
        topk.put(layer, topkIds.clone());
    }

    @Override
    public void blockInput(int layer, int tokens, int hidden, float[] x) {
        if (keepInputs) blockInput.put(layer, x.clone());
    }
}
