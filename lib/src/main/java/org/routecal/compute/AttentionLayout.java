package org.routecal.compute;

/**
 * How queries and keys of packed sequences line up for {@link Backend#attention}. Sequence s owns query rows
 * qStart[s]..qStart[s+1] and key/value rows kvStart[s]..kvStart[s+1]; its queries are the LAST qLen positions of its
 * kvLen positions (prefill: qLen = kvLen; decode after a cache: kvLen = past + qLen). Query i of sequence s sits at
 * position p = kvLen − qLen + i and sees keys j ≤ p (and j > p − slidingWindow when slidingWindow > 0).
 *
 * @param qStart   [1, S+1] I32 on the backend; {@code hostQStart} the same values on the host
 * @param kvStart  [1, S+1] I32 on the backend; {@code hostKvStart} the same values on the host
 */
public record AttentionLayout(int heads, int kvHeads, int headDim, float scale, int slidingWindow,
                              Tensor qStart, int[] hostQStart, Tensor kvStart, int[] hostKvStart) {
    public int sequences() { return hostQStart.length - 1; }

    /** True when every sequence's queries are all of its keys (a prefill without cache). */
    public boolean selfOnly() {
        for (int s = 0; s < sequences(); s++) {
            if (hostQStart[s + 1] - hostQStart[s] != hostKvStart[s + 1] - hostKvStart[s]) return false;
        }
        return true;
    }
}
