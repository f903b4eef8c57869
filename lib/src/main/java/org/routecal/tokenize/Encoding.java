package org.routecal.tokenize;

/**
 * Token ids of a text and each token's character span in that text.
 *
 * <p>Spans are Java {@code String} indices (UTF-16 units), half-open {@code [charStart[i], charEnd[i])}. They come
 * from HF's offsets ({@code return_offsets_mapping}, Python code points) converted to UTF-16, with one adjustment:
 * byte-level BPE can split one character (an emoji, a CJK character) over several tokens, and HF then gives every such
 * token the whole character, so spans overlap or repeat. We give the character to the first token that covers it and
 * let later tokens start where the previous one ended; a token made only of the rest of a split character gets an
 * empty span at that point. Spans are therefore non-decreasing and non-overlapping ({@code charStart[i] >=
 * charEnd[i-1]}), which is what placing brackets or colours around tokens needs. Where HF's spans do not overlap they
 * are kept exactly. A gap between spans is text HF maps to no token: with byte-level tokenizers such as Qwen's this
 * happens only where the NFC normalizer merges characters (a combining accent after its base letter); NFC text is
 * tiled exactly by its spans.
 *
 * @param ids       token ids, {@code [tokens]}
 * @param charStart span starts, {@code [tokens]}, UTF-16 index into the encoded text
 * @param charEnd   span ends (exclusive), {@code [tokens]}
 */
public record Encoding(int[] ids, int[] charStart, int[] charEnd) {
    public Encoding {
        if (charStart.length != ids.length || charEnd.length != ids.length) {
            throw new IllegalArgumentException("ids, charStart and charEnd differ in length");
        }
    }

    /** Number of tokens. */
    public int size() { return ids.length; }

    /** The first {@code n} tokens. */
    public Encoding prefix(int n) {
        return new Encoding(java.util.Arrays.copyOf(ids, n), java.util.Arrays.copyOf(charStart, n), java.util.Arrays.copyOf(charEnd, n));
    }
}
