package org.routecal.tokenize;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Token id = UTF-8 byte: the tokenizer of byte-vocabulary toy models (our test fixtures have vocab 256 and no
 * tokenizer.json). Chosen explicitly ({@code --tokenizer byte}); never a silent fallback. Chat rendering is a plain
 * {@code role: content} transcript ending in {@code assistant:} when a generation prompt is asked for; thinking text,
 * when present, goes before the content as {@code <think>...</think>}.
 */
public final class ByteCodec implements TextCodec {
    /** Each byte's span is the UTF-16 span of the code point it belongs to (the first byte gets it, as in {@link Encoding}). */
    @Override public Encoding encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length], start = new int[b.length], end = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xff;
        int k = 0;
        for (int c = 0; c < text.length(); ) {
            int cp = text.codePointAt(c), chars = Character.charCount(cp);
            int bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            for (int j = 0; j < bytes; j++, k++) {
                start[k] = j == 0 ? c : c + chars;
                end[k] = c + chars;
            }
            c += chars;
        }
        return new Encoding(ids, start, end);
    }

    @Override public String decode(int[] ids) {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) b[i] = (byte) ids[i];
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override public boolean isSpecial(int id) { return false; }

    @Override public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append(m.role()).append(": ");
            if (m.reasoningContent() != null) sb.append("<think>").append(m.reasoningContent()).append("</think>");
            sb.append(m.content()).append('\n');
        }
        return addGenerationPrompt ? sb.append("assistant: ").toString() : sb.toString();
    }

    @Override public Set<Integer> stopIds() { return Set.of(); }
}
