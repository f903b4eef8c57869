package org.routecal.model;

import org.routecal.compute.AttentionLayout;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;

/**
 * The residual stream of one batch of sequences of different lengths, concatenated without padding:
 * hidden [tokens, hiddenSize] F32 on the model's backend, updated layer by layer in place. Host copies of the
 * sequence geometry stay here for the ops that need them; the positions live on the backend too (RoPE).
 */
public final class Activations implements AutoCloseable {
    /** Position of this batch in the list a layer-major pass runs over (taps use it to find their rows). */
    public final int batchIndex;
    public final Tensor hidden;        // [tokens, hiddenSize] F32
    public final int[] sequenceStart;  // [sequences + 1] first row of each sequence, then the total
    public final int[] sequenceLength; // [sequences]
    public final int[] position;       // [tokens] position id of each row (cache length + index for incremental decode)
    public final Tensor positions;     // [1, tokens] I32: the same on the backend
    public final KvCache[] caches;     // [sequences] or null: keys/values of earlier positions per sequence
    private final Tensor qStart;       // [1, sequences + 1] I32

    Activations(Backend backend, int batchIndex, int hiddenSize, int[] lengths, int[] startPositions, KvCache[] caches) {
        this.batchIndex = batchIndex;
        this.sequenceLength = lengths.clone();
        this.sequenceStart = new int[lengths.length + 1];
        for (int s = 0; s < lengths.length; s++) sequenceStart[s + 1] = sequenceStart[s] + lengths[s];
        int total = sequenceStart[lengths.length];
        this.position = new int[total];
        for (int s = 0; s < lengths.length; s++) {
            for (int t = 0; t < lengths[s]; t++) position[sequenceStart[s] + t] = startPositions[s] + t;
        }
        this.hidden = backend.allocate(org.routecal.compute.TensorType.F32, total, hiddenSize, "hidden_states");
        this.positions = backend.uploadInts(position, 1, total, "positions");
        this.qStart = backend.uploadInts(sequenceStart, 1, lengths.length + 1, "sequence starts");
        this.caches = caches;
    }

    public int tokens() { return position.length; }

    public int sequences() { return sequenceLength.length; }

    /** The sequence that row {@code row} belongs to. */
    public int sequenceOf(int row) {
        int s = java.util.Arrays.binarySearch(sequenceStart, row);
        return s >= 0 ? Math.min(s, sequences() - 1) : -s - 2;
    }

    /** Layout of a prefill without cache: every sequence attends to itself. */
    AttentionLayout selfAttention(int heads, int kvHeads, int headDim, float scale, int window) {
        return new AttentionLayout(heads, kvHeads, headDim, scale, window, qStart, sequenceStart, qStart, sequenceStart);
    }

    Tensor qStart() { return qStart; }

    @Override
    public void close() {
        hidden.close();
        positions.close();
        qStart.close();
    }
}
