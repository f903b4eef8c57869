package org.routecal.synth.llm;

/** One chat message sent to the helper LLM: role is {@code system} or {@code user}. */
public record LlmMessage(String role, String content) {
    public static LlmMessage system(String content) { return new LlmMessage("system", content); }
    public static LlmMessage user(String content) { return new LlmMessage("user", content); }
}
