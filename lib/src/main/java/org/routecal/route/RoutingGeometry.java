package org.routecal.route;

import org.routecal.RoutecalException;

import java.util.Arrays;

/**
 * The shape of a model's routing: which decoder layers are MoE layers, how many routed experts each has, and how many
 * it picks per token. A "slot" is one (MoE layer, expert) pair; slots are numbered {@code layerOrdinal * experts + expert}
 * so that slot order equals the reference's (layer, expert_id) ascending tie-break order.
 *
 * @param layerIndex decoder-layer index of each MoE layer, strictly ascending (e.g. 0..47 for Qwen3-30B-A3B; a model
 *                   with leading dense layers starts later). JSONL keys and Parquet metadata use these indices.
 * @param experts    routed experts per MoE layer
 * @param topK       experts picked per token and layer
 */
public record RoutingGeometry(int[] layerIndex, int experts, int topK) {

    public RoutingGeometry {
        if (layerIndex.length == 0) throw new RoutecalException("routing geometry: the model has no MoE layer");
        for (int i = 1; i < layerIndex.length; i++) {
            if (layerIndex[i] <= layerIndex[i - 1]) {
                throw new RoutecalException("routing geometry: MoE layer indices must ascend, got " + Arrays.toString(layerIndex));
            }
        }
        if (experts < 1 || experts > Short.MAX_VALUE) {
            throw new RoutecalException("routing geometry: experts per layer must be in 1.." + Short.MAX_VALUE + ", got " + experts);
        }
        if (topK < 1 || topK > experts) throw new RoutecalException("routing geometry: top_k " + topK + " not in 1.." + experts);
        layerIndex = layerIndex.clone();
    }

    /** Number of MoE layers. */
    public int layers() { return layerIndex.length; }

    /** Number of (layer, expert) slots. */
    public int slots() { return layerIndex.length * experts; }

    /** Expert picks per token over all MoE layers ({@code layers × topK}), the denominator of the token ratios. */
    public int picksPerToken() { return layerIndex.length * topK; }

    /** Slot number of (MoE layer ordinal, expert). */
    public int slot(int layerOrdinal, int expert) { return layerOrdinal * experts + expert; }

    /** Ordinal (0-based position among MoE layers) of a decoder-layer index, or -1 if it is not an MoE layer. */
    public int ordinalOf(int decoderLayer) {
        int i = Arrays.binarySearch(layerIndex, decoderLayer);
        return i >= 0 ? i : -1;
    }

    @Override public int[] layerIndex() { return layerIndex.clone(); }

    @Override public boolean equals(Object o) {
        return o instanceof RoutingGeometry g && g.experts == experts && g.topK == topK && Arrays.equals(g.layerIndex, layerIndex);
    }

    @Override public int hashCode() { return 31 * (31 * Arrays.hashCode(layerIndex) + experts) + topK; }

    @Override public String toString() {
        return "RoutingGeometry[moeLayers=" + layerIndex.length + " (" + layerIndex[0] + ".." + layerIndex[layerIndex.length - 1]
                + "), experts=" + experts + ", topK=" + topK + "]";
    }
}
