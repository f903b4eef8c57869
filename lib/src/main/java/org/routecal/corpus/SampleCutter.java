package org.routecal.corpus;

import org.routecal.RoutecalException;
import org.routecal.tokenize.Encoding;
import org.routecal.tokenize.TextCodec;

/**
 * Cuts an over-long sample to a token limit, never splicing head and tail together (the reference's "smart
 * truncation" joins the first 30 % to the last 70 %, which puts an unnatural seam in the text), and never dropping it.
 *
 * <p>At a natural boundary when there is one; the last at or before the limit wins:
 * <ul>
 *   <li>turn: just before a special token that follows another special token with only whitespace tokens between,
 *       e.g. before {@code <|im_start|>} in {@code <|im_end|>\n<|im_start|>} (Qwen, ChatML), before
 *       {@code <|start_header_id|>} after {@code <|eot_id|>} (Llama 3) — the end of a complete turn;</li>
 *   <li>sentence: after a token whose text ends with {@code . ! ?} followed by whitespace or the end of the text,
 *       with a full-width {@code 。！？}, or with a newline — but not inside a turn's header line such as
 *       {@code <|im_start|>user\n}, which would leave a turn with no content.</li>
 * </ul>
 * Otherwise (a long line of code, whose newline tokens carry the next line's indentation, has none) it cuts at the
 * limit itself: the longest prefix, ending at a token's character end, that encodes to at most the limit.
 * The cut text is encoded again and the result is the encoding of the cut text, so a sample's encoding always equals
 * the tokenizer applied to its text.
 */
final class SampleCutter {
    /** How a sample was kept: whole, cut at a boundary, or cut at the limit (no boundary before it). */
    enum Kind { WHOLE, BOUNDARY, LIMIT }

    record Cut(String text, Encoding encoding, Kind kind) { }

    private final TextCodec codec;
    private final int maxTokens;

    SampleCutter(TextCodec codec, int maxTokens) {
        this.codec = codec;
        this.maxTokens = maxTokens;
    }

    /** The sample within the limit; {@code where} names it in the one error possible (a limit below one character). */
    Cut cut(String text, Encoding enc, String where) {
        if (maxTokens <= 0 || enc.size() <= maxTokens) return new Cut(text, enc, Kind.WHOLE);
        for (int keep = Math.min(maxTokens, enc.size() - 1); keep >= 1; keep--) {
            boolean turn = isTurnBoundary(enc, keep, text);
            boolean sentence = !turn && isSentenceEnd(text, enc.charEnd()[keep - 1]) && !inTurnHeader(enc, keep, text);
            if (!turn && !sentence) continue;
            Cut c = prefix(text, enc.charEnd()[keep - 1], Kind.BOUNDARY);
            if (c != null) return c;
        }
        for (int keep = maxTokens; keep >= 1; keep--) {
            Cut c = prefix(text, enc.charEnd()[keep - 1], Kind.LIMIT);
            if (c != null) return c;
        }
        throw new RoutecalException(where + ": --max-tokens-per-sample " + maxTokens + " is less than the tokens of the sample's first character");
    }

    /** {@code text[0, end)} when it is non-empty and encodes to at most the limit, else null. */
    private Cut prefix(String text, int end, Kind kind) {
        if (end <= 0 || text.substring(0, end).isBlank()) return null;
        String head = text.substring(0, end);
        Encoding again = codec.encode(head);
        return again.size() <= maxTokens && again.size() > 0 ? new Cut(head, again, kind) : null;
    }

    /** Cutting before token {@code k} ends a turn: token k is special and so is the last non-blank token before it. */
    private boolean isTurnBoundary(Encoding enc, int k, String text) {
        if (!codec.isSpecial(enc.ids()[k])) return false;
        for (int j = k - 1; j >= 0; j--) {
            if (codec.isSpecial(enc.ids()[j])) return true;
            if (!text.substring(enc.charStart()[j], enc.charEnd()[j]).isBlank()) return false;
        }
        return false;
    }

    /**
     * Whether a cut before token {@code k} would end inside a turn's header: nothing but one line (the role, e.g.
     * {@code <|im_start|>user\n}) or only whitespace since the last special token.
     */
    private boolean inTurnHeader(Encoding enc, int k, String text) {
        for (int j = k - 1; j >= 0; j--) {
            if (!codec.isSpecial(enc.ids()[j])) continue;
            String since = text.substring(enc.charEnd()[j], enc.charEnd()[k - 1]);
            String content = since.strip();
            return content.isEmpty() || (!content.contains("\n") && since.endsWith("\n"));
        }
        return false;
    }

    private static boolean isSentenceEnd(String text, int end) {
        if (end <= 0) return false;
        char last = text.charAt(end - 1);
        if (last == '\n' || last == '。' || last == '！' || last == '？') return true;
        if (last != '.' && last != '!' && last != '?') return false;
        return end == text.length() || Character.isWhitespace(text.charAt(end));
    }
}
