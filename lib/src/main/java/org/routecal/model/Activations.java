package org.routecal.model;

/**
 * The residual stream of a batch of sequences of different lengths, concatenated: hidden [tokens, hiddenSize]
 * row-major. Memory is O(tokens × hidden); the forward pass updates it layer by layer in place.
 */
public final class Activations {
    public final int hiddenSize;
    public final float[] hidden;       // [tokens, hiddenSize]
    public final int[] sequenceStart;  // [sequences] first row of each sequence
    public final int[] sequenceLength; // [sequences]
    public final int[] position;       // [tokens] position id of each row (cache length + index for incremental decode)
    public final KvCache[] caches;     // [sequences] or null: keys/values of earlier positions per sequence

    Activations(int hiddenSize, int[] lengths, int[] startPositions, KvCache[] caches) {
        this.hiddenSize = hiddenSize;
        this.sequenceLength = lengths.clone();
        this.sequenceStart = new int[lengths.length];
        int total = 0;
        for (int s = 0; s < lengths.length; s++) { sequenceStart[s] = total; total += lengths[s]; }
        this.hidden = new float[Math.multiplyExact(total, hiddenSize)];
        this.position = new int[total];
        for (int s = 0; s < lengths.length; s++) {
            for (int t = 0; t < lengths[s]; t++) position[sequenceStart[s] + t] = startPositions[s] + t;
        }
        this.caches = caches;
    }

    public int tokens() { return position.length; }

    public int sequences() { return sequenceLength.length; }
}
