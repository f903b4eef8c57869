package org.routecal.route;

import org.routecal.RoutecalException;

/**
 * One corpus sample as the routing stage consumes it: the text and the tokenization that is fed to the model, with
 * each token's UTF-16 span in that text (so brackets never re-tokenize).
 *
 * @param tokenIds  [tokens] vocabulary ids
 * @param charStart [tokens] span starts in {@code text}
 * @param charEnd   [tokens] span ends (exclusive)
 */
public record RoutedSample(String sampleId, String domain, String text, int[] tokenIds, int[] charStart, int[] charEnd) {

    public RoutedSample {
        if (tokenIds.length != charStart.length || tokenIds.length != charEnd.length) {
            throw new RoutecalException("sample " + sampleId + ": " + tokenIds.length + " token ids but " + charStart.length
                    + " span starts and " + charEnd.length + " span ends");
        }
        for (int i = 0; i < charStart.length; i++) {
            if (charStart[i] < 0 || charEnd[i] < charStart[i] || charEnd[i] > text.length()) {
                throw new RoutecalException("sample " + sampleId + ": token " + i + " span [" + charStart[i] + ", " + charEnd[i]
                        + ") is outside the text (length " + text.length() + ")");
            }
        }
    }

    public int tokens() { return tokenIds.length; }
}
