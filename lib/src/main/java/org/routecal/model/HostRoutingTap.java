package org.routecal.model;

import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;

/**
 * A routing tap on host arrays: each MoE layer's ids [tokens, k], weights [tokens, k] and router logits
 * [tokens, experts] are downloaded and handed over. For parity tests and small tools; stages that run on a GPU reduce
 * on the device instead.
 */
@FunctionalInterface
public interface HostRoutingTap extends ForwardTaps {
    void routing(int layer, int tokens, int topK, int[] ids, float[] weights, float[] logits);

    @Override
    default void routing(int layer, Activations batch, Tensor x, Tensor ids, Tensor weights, Tensor logits) {
        Backend b = ids.backend();
        routing(layer, ids.rowCount(), ids.cols(), b.downloadInts(ids), b.download(weights), b.download(logits));
    }
}
