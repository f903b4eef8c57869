package org.routecal.serve;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** The text side of a served model: tokenizer and chat template. */
public interface TextCodec {
    /** Token ids of {@code text} without special tokens added. */
    int[] encode(String text);

    /** Token spans of {@code encode(text)}: {charStart[], charEnd[]} in UTF-16 chars of {@code text}. */
    int[][] spans(String text);

    /** The text of {@code ids} (special tokens kept, so stop tokens can be seen). */
    String decode(int[] ids);

    /** {@code messages} ({@code {role, content}} maps) in the chat template, with the generation prompt if asked. */
    String renderChat(List<Map<String, Object>> messages, boolean addGenerationPrompt);

    /** Ids that end a generation (EOS, end-of-turn). */
    Set<Integer> stopIds();
}
