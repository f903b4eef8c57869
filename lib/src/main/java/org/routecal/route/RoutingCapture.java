package org.routecal.route;

import org.routecal.RoutecalException;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;

import java.util.List;

/**
 * Copies every MoE layer's top-k ids and weights of one forward batch into a {@link RoutingBatch}. The route stage's
 * tap calls {@link #capture} once per MoE layer with all tokens of the batch; ids arrive by descending weight.
 */
final class RoutingCapture {
    private final RoutingGeometry geometry;
    private final List<RoutedSample> samples;
    private final int[] sampleIndex;
    private final int tokens;
    private final short[] ids;    // [tokens, layers, topK]
    private final float[] weights; // [tokens, layers, topK]
    private final boolean[] seen;  // [layers]

    /** @param sampleIndex corpus index of each sample in this batch, in forward order */
    RoutingCapture(RoutingGeometry geometry, List<RoutedSample> samples, int[] sampleIndex) {
        this.geometry = geometry;
        this.samples = samples;
        this.sampleIndex = sampleIndex;
        this.tokens = samples.stream().mapToInt(RoutedSample::tokens).sum();
        this.ids = new short[tokens * geometry.picksPerToken()];
        this.weights = new float[ids.length];
        this.seen = new boolean[geometry.layers()];
    }

    /** Copies one layer's routing of this capture's batch (downloads [tokens, k] ids and weights: small). */
    void capture(int layer, Backend backend, Tensor idsT, Tensor weightsT) {
        int tokens = idsT.rowCount(), topK = idsT.cols();
        int[] topkIds = backend.downloadInts(idsT);
        float[] topkWeights = backend.download(weightsT);
        int l = geometry.ordinalOf(layer);
        if (l < 0 || topK != geometry.topK() || tokens != this.tokens) {
            throw new RoutecalException("routing tap: unexpected call for layer " + layer + " (" + tokens + " tokens, top-" + topK
                    + "), expected " + geometry + " with " + this.tokens + " tokens");
        }
        seen[l] = true;
        int layers = geometry.layers();
        for (int t = 0; t < tokens; t++) {
            int dst = (t * layers + l) * topK;
            for (int j = 0; j < topK; j++) {
                ids[dst + j] = (short) topkIds[t * topK + j];
                weights[dst + j] = topkWeights[t * topK + j];
            }
        }
    }

    /** The captured batch; every MoE layer must have reported. */
    RoutingBatch batch() {
        for (int l = 0; l < seen.length; l++) {
            if (!seen[l]) throw new RoutecalException("routing tap: MoE layer " + geometry.layerIndex()[l] + " never reported its routing");
        }
        int[] sample = new int[tokens], pos = new int[tokens], tok = new int[tokens], cs = new int[tokens], ce = new int[tokens];
        int t = 0;
        for (int s = 0; s < samples.size(); s++) {
            RoutedSample rs = samples.get(s);
            for (int p = 0; p < rs.tokens(); p++, t++) {
                sample[t] = sampleIndex[s];
                pos[t] = p;
                tok[t] = rs.tokenIds()[p];
                cs[t] = rs.charStart()[p];
                ce[t] = rs.charEnd()[p];
            }
        }
        return new RoutingBatch(geometry, tokens, sample, pos, tok, cs, ce, ids, weights);
    }
}
