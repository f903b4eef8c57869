package org.routecal.serve;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Token id = UTF-8 byte: the tokenizer of byte-vocabulary toy models (our test fixtures have vocab 256 and no
 * tokenizer.json). Chose it explicitly ({@code serve --tokenizer byte}); never a silent fallback. Chat rendering is a
 * plain {@code role: content} transcript ending in {@code assistant:}.
 */
public final class ByteCodec implements TextCodec {
    @Override public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xff;
        return ids;
    }

    /** Each byte maps to the UTF-16 span of the code point it belongs to. */
    @Override public int[][] spans(String text) {
        int n = text.getBytes(StandardCharsets.UTF_8).length;
        int[] start = new int[n], end = new int[n];
        int b = 0;
        for (int c = 0; c < text.length(); ) {
            int cp = text.codePointAt(c), chars = Character.charCount(cp);
            int bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            for (int k = 0; k < bytes; k++, b++) {
                start[b] = c;
                end[b] = c + chars;
            }
            c += chars;
        }
        return new int[][]{start, end};
    }

    @Override public String decode(int[] ids) {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) b[i] = (byte) ids[i];
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override public String renderChat(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> m : messages) sb.append(m.get("role")).append(": ").append(m.get("content")).append('\n');
        return addGenerationPrompt ? sb.append("assistant: ").toString() : sb.toString();
    }

    @Override public Set<Integer> stopIds() { return Set.of(); }
}
