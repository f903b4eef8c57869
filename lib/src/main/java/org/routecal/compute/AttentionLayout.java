package org.routecal.compute;

/**
 * How queries and keys of packed sequences line up for {@link Backend#attention}. Sequence s owns query rows
 * qStart[s]..qStart[s+1] and key/value rows kvStart[s]..kvStart[s+1]; its queries are the LAST qLen positions of its
 * kvLen positions (prefill: qLen = kvLen; decode after a cache: kvLen = past + qLen). Query i of sequence s sits at
 * position p = kvLen − qLen + i and sees keys j ≤ p, and of those only j &gt; p − slidingWindow when slidingWindow &gt; 0
 * (transformers' sliding_window_overlay) and only j in p's chunk, j ≥ ⌊p / chunkSize⌋·chunkSize, when chunkSize &gt; 0
 * (Llama 4's chunked_overlay). With sinks, head h's softmax gets one more logit sinks[h] whose probability is dropped
 * (GPT-OSS): p_j = exp(s_j) / (Σ exp(s_i) + exp(sinks[h])).
 *
 * @param headDim      width of a query and key head (MLA: qk_nope_head_dim + qk_rope_head_dim)
 * @param valueHeadDim width of a value and output head (MLA's v_head_dim; headDim elsewhere)
 * @param sinks        [1, heads] F32 per-head sink logits on the backend, or null
 * @param qStart       [1, S+1] I32 on the backend; {@code hostQStart} the same values on the host
 * @param kvStart      [1, S+1] I32 on the backend; {@code hostKvStart} the same values on the host
 */
public record AttentionLayout(int heads, int kvHeads, int headDim, int valueHeadDim, float scale, int slidingWindow, int chunkSize,
                              Tensor sinks, Tensor qStart, int[] hostQStart, Tensor kvStart, int[] hostKvStart) {

    /** Plain causal (or sliding-window) GQA with equal query/key and value head widths, no chunks, no sinks. */
    public AttentionLayout(int heads, int kvHeads, int headDim, float scale, int slidingWindow,
                           Tensor qStart, int[] hostQStart, Tensor kvStart, int[] hostKvStart) {
        this(heads, kvHeads, headDim, headDim, scale, slidingWindow, 0, null, qStart, hostQStart, kvStart, hostKvStart);
    }

    public int sequences() { return hostQStart.length - 1; }

    /** True when every sequence's queries are all of its keys (a prefill without cache). */
    public boolean selfOnly() {
        for (int s = 0; s < sequences(); s++) {
            if (hostQStart[s + 1] - hostQStart[s] != hostKvStart[s + 1] - hostKvStart[s]) return false;
        }
        return true;
    }

    /** True when the layout uses none of the extensions (value width, chunks, sinks) the original kernels lack. */
    public boolean plain() { return valueHeadDim == headDim && chunkSize == 0 && sinks == null; }

    /** The first key position query position {@code p} sees. */
    public int firstKey(int p) {
        int first = slidingWindow > 0 ? Math.max(0, p - slidingWindow + 1) : 0;
        return chunkSize > 0 ? Math.max(first, p / chunkSize * chunkSize) : first;
    }

}
