package org.routecal.demo;

import java.util.List;

/**
 * One line of the demo corpus: either chat {@code messages} or plain {@code text} (exactly one is non-null).
 * {@code language} is an ISO 639-1 code ("en", "el", "ru", "zh", …), kept so the demo can show which scripts a
 * selection added.
 */
record DemoSample(String sampleId, String domain, String language, List<Message> messages, String text) {

    /** A chat turn; {@code reasoningContent} is null unless the assistant "thought" (Qwen3's {@code <think>} block). */
    record Message(String role, String content, String reasoningContent) {
        static Message of(String role, String content) {
            return new Message(role, content, null);
        }
    }

    static DemoSample chat(String domain, String language, List<Message> messages) {
        return new DemoSample(null, domain, language, List.copyOf(messages), null);
    }

    static DemoSample text(String domain, String language, String text) {
        return new DemoSample(null, domain, language, null, text);
    }

    DemoSample withId(String id) {
        return new DemoSample(id, domain, language, messages, text);
    }

    /** The sample's content for deduplication and tokenizer training: text, or the messages' contents joined. */
    String plainText() {
        if (text != null) return text;
        StringBuilder sb = new StringBuilder();
        for (Message m : messages) {
            if (m.reasoningContent() != null) sb.append(m.reasoningContent()).append('\n');
            sb.append(m.content()).append('\n');
        }
        return sb.toString();
    }
}
