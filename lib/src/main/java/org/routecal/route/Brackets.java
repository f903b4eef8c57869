package org.routecal.route;

import java.util.ArrayList;
import java.util.List;

/**
 * Wraps runs of equally labelled tokens in {@code <blue>…</blue>} / {@code <red>…</red>} using the character spans
 * stored at routing time (reference step 6, without its re-tokenization). Pure string work.
 *
 * <p>Rules, in order:
 * <ol>
 *   <li>Labels: blue if the token is in the blue box, red if in the red box; in both, {@link Overlap} decides
 *       (reference default: blue first).</li>
 *   <li>{@code afterMarker} (the reference's {@code --bracket_after_input} used {@code "<think>\n"}): if the text
 *       lacks the marker, no token is tagged; otherwise tokens starting before the marker's end lose their label.
 *       Null tags everything.</li>
 *   <li>The blue/red token counts are taken here, after steps 1–2 (as the reference counts).</li>
 *   <li>Maximal runs of consecutive tokens with the same label become one span, from the run's smallest start to its
 *       largest end.</li>
 *   <li>Differences from the reference, which only matter for byte-level tokens whose spans overlap (one character
 *       split over several tokens): empty spans are dropped; a span that starts inside the previous one is clipped
 *       to start where that one ends (dropped if nothing is left), so tags never nest or cross; a boundary that would
 *       split a UTF-16 surrogate pair moves past the pair.</li>
 * </ol>
 * Tags are inserted verbatim (no escaping, like the reference), so {@link #strip} gives back the original text
 * exactly unless the original itself contains a literal tag string.
 */
public final class Brackets {
    public static final byte NONE = 0, BLUE = 1, RED = 2;

    /** What to do with a token that is in both boxes. */
    public enum Overlap { BLUE_FIRST, RED_FIRST }

    /** Tagged text of one sample and its token counts (after overlap policy and marker cut). */
    public record Tagged(String text, int tokens, int blueTokens, int redTokens) {}

    private Brackets() {}

    /** Per-token labels from the two box memberships. */
    public static byte[] labels(boolean[] blue, boolean[] red, Overlap overlap) {
        byte[] out = new byte[blue.length];
        for (int i = 0; i < out.length; i++) {
            if (blue[i] && red[i]) out[i] = overlap == Overlap.RED_FIRST ? RED : BLUE;
            else if (blue[i]) out[i] = BLUE;
            else if (red[i]) out[i] = RED;
        }
        return out;
    }

    /**
     * Tags one sample.
     *
     * @param charStart token span starts in {@code text} (UTF-16) // [tokens]
     * @param charEnd   token span ends (exclusive) // [tokens]
     * @param labels    {@link #NONE}, {@link #BLUE} or {@link #RED} per token // [tokens]
     * @param afterMarker tag only after the first occurrence of this string; null = everywhere
     */
    public static Tagged apply(String text, int[] charStart, int[] charEnd, byte[] labels, String afterMarker) {
        int n = labels.length;
        byte[] lab = labels.clone();
        if (afterMarker != null) {
            int m = text.indexOf(afterMarker);
            int after = m < 0 ? Integer.MAX_VALUE : m + afterMarker.length();
            for (int i = 0; i < n; i++) if (m < 0 || charStart[i] < after) lab[i] = NONE;
        }
        int blue = 0, red = 0;
        for (byte b : lab) {
            if (b == BLUE) blue++;
            else if (b == RED) red++;
        }
        List<int[]> spans = new ArrayList<>(); // {start, end, label}
        for (int i = 0; i < n; ) {
            if (lab[i] == NONE) {
                i++;
                continue;
            }
            int j = i, s = Integer.MAX_VALUE, e = Integer.MIN_VALUE;
            while (j < n && lab[j] == lab[i]) {
                s = Math.min(s, charStart[j]);
                e = Math.max(e, charEnd[j]);
                j++;
            }
            spans.add(new int[]{snap(text, s), snap(text, e), lab[i]});
            i = j;
        }
        spans.sort((a, b) -> Integer.compare(a[0], b[0]));
        StringBuilder out = new StringBuilder(text.length() + spans.size() * 13);
        int cursor = 0;
        for (int[] sp : spans) {
            int s = Math.max(sp[0], cursor), e = Math.min(sp[1], text.length());
            if (s >= e) continue;
            String tag = sp[2] == BLUE ? "blue" : "red";
            out.append(text, cursor, s).append('<').append(tag).append('>').append(text, s, e).append("</").append(tag).append('>');
            cursor = e;
        }
        out.append(text, cursor, text.length());
        return new Tagged(out.toString(), n, blue, red);
    }

    /**
     * Removes every {@code <blue>}, {@code </blue>}, {@code <red>}, {@code </red>} in one left-to-right pass. Inverts
     * {@link #apply} whenever the original text has no literal tag: a tag contains '<' only at its first character, so
     * a match can never begin in original text and run into an inserted tag.
     */
    public static String strip(String tagged) {
        StringBuilder out = new StringBuilder(tagged.length());
        int i = 0;
        outer:
        while (i < tagged.length()) {
            if (tagged.charAt(i) == '<') {
                for (String tag : TAGS) {
                    if (tagged.startsWith(tag, i)) {
                        i += tag.length();
                        continue outer;
                    }
                }
            }
            out.append(tagged.charAt(i++));
        }
        return out.toString();
    }

    private static final String[] TAGS = {"<blue>", "</blue>", "<red>", "</red>"};

    /** Moves a boundary that falls between a high and a low surrogate to after the pair. */
    private static int snap(String text, int i) {
        if (i > 0 && i < text.length() && Character.isLowSurrogate(text.charAt(i)) && Character.isHighSurrogate(text.charAt(i - 1))) {
            return i + 1;
        }
        return Math.max(0, i);
    }
}
