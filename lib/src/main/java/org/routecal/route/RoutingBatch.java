package org.routecal.route;

import org.routecal.RoutecalException;

/**
 * The routing of a block of tokens through every MoE layer, with each token's identity and its character span in the
 * text it was tokenized from (the same tokenization that was fed to the model; nothing is re-tokenized).
 *
 * <p>Struct of arrays; all per-token arrays have length {@code tokens}.
 *
 * @param geometry    layers, experts, top-k
 * @param tokens      number of tokens in the block
 * @param sampleIndex position of the token's sample in the corpus (0-based) // [tokens]
 * @param position    token position inside its sample (0-based) // [tokens]
 * @param tokenId     vocabulary id // [tokens]
 * @param charStart   start of the token's span in the sample text, UTF-16 chars // [tokens]
 * @param charEnd     end (exclusive) of that span // [tokens]
 * @param expertIds   picked experts, by descending routing weight // [tokens, layers, topK] row-major
 * @param weights     routing weights of those picks as the model combines them // [tokens, layers, topK] row-major
 */
public record RoutingBatch(RoutingGeometry geometry, int tokens, int[] sampleIndex, int[] position, int[] tokenId,
                           int[] charStart, int[] charEnd, short[] expertIds, float[] weights) {

    public RoutingBatch {
        long picks = (long) tokens * geometry.picksPerToken();
        if (sampleIndex.length != tokens || position.length != tokens || tokenId.length != tokens
                || charStart.length != tokens || charEnd.length != tokens) {
            throw new RoutecalException("routing batch: per-token arrays must have " + tokens + " entries");
        }
        if (expertIds.length != picks || weights.length != picks) {
            throw new RoutecalException("routing batch: expected " + picks + " picks (" + tokens + " tokens × "
                    + geometry.picksPerToken() + "), got ids " + expertIds.length + ", weights " + weights.length);
        }
    }

    /** Offset of the first pick of (token, MoE layer ordinal) in {@link #expertIds()} and {@link #weights()}. */
    public int pickOffset(int token, int layerOrdinal) {
        return (token * geometry.layers() + layerOrdinal) * geometry.topK();
    }

    /** Expert id of the k-th pick (0 = highest weight) of a token in a MoE layer. */
    public int expertId(int token, int layerOrdinal, int k) {
        return expertIds[pickOffset(token, layerOrdinal) + k];
    }

    /** Routing weight of the k-th pick of a token in a MoE layer. */
    public float weight(int token, int layerOrdinal, int k) {
        return weights[pickOffset(token, layerOrdinal) + k];
    }
}
