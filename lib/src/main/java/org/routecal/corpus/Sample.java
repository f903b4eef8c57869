package org.routecal.corpus;

import org.routecal.tokenize.Encoding;

/**
 * One calibration sample: the exact text the model sees (a rendered chat or a plain text, after any cut to the token
 * limit) and its encoding, which always equals {@code tokenizer(text, add_special_tokens=False)}.
 */
public record Sample(String sampleId, String domain, String text, Encoding encoding) {
    /** The token ids. // [tokens] */
    public int[] ids() { return encoding.ids(); }

    /** Number of tokens. */
    public int tokens() { return encoding.size(); }
}
