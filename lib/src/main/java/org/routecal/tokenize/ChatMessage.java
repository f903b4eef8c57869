package org.routecal.tokenize;

/**
 * One chat turn. {@code reasoningContent} is the assistant's thinking text or null; chat templates that support it
 * (Qwen3, DeepSeek-R1 style) read it as {@code message.reasoning_content}.
 */
public record ChatMessage(String role, String content, String reasoningContent) {
    public ChatMessage(String role, String content) { this(role, content, null); }
}
