package org.routecal.corpus;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.routecal.tokenize.ChatMessage;
import org.routecal.tokenize.Encoding;
import org.routecal.tokenize.TextCodec;

/**
 * The one path from content to a {@link Sample}, shared by every stage (route, quantize, evaluate, select, refine,
 * synthesize): chat messages are rendered ({@link #render}), the text is tokenized with the model's codec and cut to
 * the token limit ({@link #make}). Corpus rows, pool rows and generated candidates all go through it, so the same
 * content always becomes the same tokens.
 *
 * <p>Rendering, with the chat template on: {@code codec.renderChat(messages, add_generation_prompt=False,
 * enable_thinking=...)} ({@code enable_thinking} passed only when set, so the template's own default applies
 * otherwise). Off: turns become {@code role:\n[reasoning\n\n]content} paragraphs joined by a blank line (the reference
 * pipeline's fallback).
 */
public final class SampleMaker {
    private final TextCodec codec;
    private final boolean chatTemplate;
    private final Boolean enableThinking;
    private final SampleCutter cutter;

    public SampleMaker(TextCodec codec, boolean chatTemplate, Boolean enableThinking, int maxTokensPerSample) {
        this.codec = codec;
        this.chatTemplate = chatTemplate;
        this.enableThinking = enableThinking;
        this.cutter = new SampleCutter(codec, maxTokensPerSample);
    }

    /** The rendering and cutting options of {@code o}. */
    public static SampleMaker of(TextCodec codec, CorpusOptions o) {
        return new SampleMaker(codec, o.chatTemplate(), o.enableThinking(), o.maxTokensPerSample());
    }

    public TextCodec codec() { return codec; }

    /** The text a chat becomes (see the class comment). */
    public String render(List<ChatMessage> messages) {
        if (!chatTemplate) return plain(messages);
        Map<String, Object> extra = new LinkedHashMap<>();
        if (enableThinking != null) extra.put("enable_thinking", enableThinking);
        return codec.renderChat(messages, false, extra);
    }

    /** A sample of {@code text}, cut to the limit; {@code where} names it in errors. */
    public Made make(String sampleId, String domain, String text, String where) {
        Encoding enc = codec.encode(text);
        SampleCutter.Cut c = cutter.cut(text, enc, where);
        return new Made(new Sample(sampleId, domain, c.text(), c.encoding()), c.kind() == SampleCutter.Kind.BOUNDARY,
            c.kind() == SampleCutter.Kind.LIMIT);
    }

    /** A sample and whether it was cut at a boundary or, with none before the limit, at the limit. */
    public record Made(Sample sample, boolean cutAtBoundary, boolean cutAtLimit) {
        public boolean cut() { return cutAtBoundary || cutAtLimit; }
    }

    private static String plain(List<ChatMessage> turns) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage t : turns) {
            if (sb.length() > 0) sb.append("\n\n");
            sb.append(t.role()).append(":\n");
            if (t.reasoningContent() != null && !t.reasoningContent().isEmpty()) sb.append(t.reasoningContent()).append("\n\n");
            sb.append(t.content());
        }
        return sb.toString();
    }
}
