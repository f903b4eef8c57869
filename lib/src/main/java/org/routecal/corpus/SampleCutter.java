package org.routecal.corpus;

import org.routecal.tokenize.Encoding;
import org.routecal.tokenize.Tokenizer;

/**
 * Cuts an over-long sample to a token limit at a natural boundary, never splicing head and tail together (the
 * reference's "smart truncation" joins the first 30 % to the last 70 %, which puts an unnatural seam in the text).
 *
 * <p>Boundaries, the last one at or before the limit wins:
 * <ul>
 *   <li>turn: just before a special token that follows another special token with only whitespace tokens between,
 *       e.g. before {@code <|im_start|>} in {@code <|im_end|>\n<|im_start|>} (Qwen, ChatML), before
 *       {@code <|start_header_id|>} after {@code <|eot_id|>} (Llama 3) — the end of a complete turn;</li>
 *   <li>sentence: after a token whose text ends with {@code . ! ?} followed by whitespace or the end of the text,
 *       with a full-width {@code 。！？}, or with a newline — but not inside a turn's header line such as
 *       {@code <|im_start|>user\n}, which would leave a turn with no content.</li>
 * </ul>
 * The cut text is encoded again and the result is the encoding of the cut text, so a sample's encoding always equals
 * the tokenizer applied to its text. A sample with no boundary before the limit is dropped (null).
 */
final class SampleCutter {
    private final Tokenizer tokenizer;
    private final int maxTokens;

    SampleCutter(Tokenizer tokenizer, int maxTokens) {
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
    }

    /** Text and encoding within the limit, or null when no boundary fits. */
    Cut cut(String text, Encoding enc) {
        if (maxTokens <= 0 || enc.size() <= maxTokens) return new Cut(text, enc);
        for (int keep = Math.min(maxTokens, enc.size() - 1); keep >= 1; keep--) {
            boolean turn = isTurnBoundary(enc, keep, text);
            boolean sentence = !turn && isSentenceEnd(text, enc.charEnd()[keep - 1]) && !inTurnHeader(enc, keep, text);
            if (!turn && !sentence) continue;
            String head = text.substring(0, enc.charEnd()[keep - 1]);
            Encoding again = tokenizer.encode(head);
            if (again.size() <= maxTokens) return new Cut(head, again);
        }
        return null;
    }

    record Cut(String text, Encoding encoding) { }

    /** Cutting before token {@code k} ends a turn: token k is special and so is the last non-blank token before it. */
    private boolean isTurnBoundary(Encoding enc, int k, String text) {
        if (!tokenizer.isSpecial(enc.ids()[k])) return false;
        for (int j = k - 1; j >= 0; j--) {
            if (tokenizer.isSpecial(enc.ids()[j])) return true;
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
            if (!tokenizer.isSpecial(enc.ids()[j])) continue;
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
