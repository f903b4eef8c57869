package org.routecal.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One chat turn, the one message type of routecal: corpus rows, generated candidates, helper-LLM prompts and server
 * requests all become these, and {@link ChatTemplate#render} is the one way they become text.
 *
 * @param role             system, user, assistant or tool ({@link #ROLES}); chat templates silently skip other roles,
 *                         so they are refused where messages are read
 * @param content          the text ("" when absent)
 * @param reasoningContent the assistant's thinking text, or null; templates that support it (Qwen3, DeepSeek-R1 style)
 *                         read it as {@code message.reasoning_content}
 * @param extra            every other key the template may read ({@code tool_calls}, {@code tool_call_id}, {@code name},
 *                         ...), as JSON-like values; never null
 */
public record ChatMessage(String role, String content, String reasoningContent, Map<String, Object> extra) {
    /** The roles chat templates render. */
    public static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

    public ChatMessage {
        if (role == null) throw new IllegalArgumentException("role is null");
        content = content == null ? "" : content;
        extra = extra == null || extra.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    public ChatMessage(String role, String content, String reasoningContent) { this(role, content, reasoningContent, Map.of()); }

    public ChatMessage(String role, String content) { this(role, content, null, Map.of()); }

    public static ChatMessage system(String content) { return new ChatMessage("system", content); }

    public static ChatMessage user(String content) { return new ChatMessage("user", content); }

    public static ChatMessage assistant(String content) { return new ChatMessage("assistant", content); }

    /** Whether the role is one templates render. */
    public boolean knownRole() { return ROLES.contains(role); }

    /**
     * The message as the template sees it: role, content, {@code reasoning_content} when non-null, then the extra keys
     * (as transformers passes the dicts it is given).
     */
    public Map<String, Object> toTemplateMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        if (reasoningContent != null) m.put("reasoning_content", reasoningContent);
        extra.forEach(m::putIfAbsent);
        return m;
    }

    /**
     * Parses one message object; {@code where} ("corpus.jsonl line 3: messages[1]") starts every error. Rules:
     * {@code role} is a string; {@code content} is a string, null/absent (""), or OpenAI's list of parts (the text
     * parts joined); the thinking text is {@code reasoning_content}, or the reference pipeline's {@code reasoning};
     * {@code tool_call_id} is made a string; everything else is kept in {@link #extra}. The role is not checked here
     * (see {@link #knownRole}), so callers can choose to refuse or drop unknown ones.
     */
    public static ChatMessage fromJson(JsonNode m, String where) {
        if (m == null || !m.isObject()) throw new RoutecalException(where + " is not an object {role, content}");
        JsonNode role = m.get("role");
        if (role == null || !role.isTextual() || role.asText().isEmpty()) throw new RoutecalException(where + " has no string 'role'");
        String content = content(m.get("content"), where);
        JsonNode reasoning = m.hasNonNull("reasoning_content") ? m.get("reasoning_content") : m.get("reasoning");
        if (reasoning != null && !reasoning.isNull() && !reasoning.isTextual()) {
            throw new RoutecalException(where + ".reasoning_content must be a string");
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        m.fields().forEachRemaining(e -> {
            String k = e.getKey();
            if (k.equals("role") || k.equals("content") || k.equals("reasoning_content") || k.equals("reasoning") || e.getValue().isNull()) return;
            extra.put(k, k.equals("tool_call_id") ? e.getValue().asText() : Json.MAPPER.convertValue(e.getValue(), Object.class));
        });
        return new ChatMessage(role.asText(), content, reasoning == null || reasoning.isNull() ? null : reasoning.asText(), extra);
    }

    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.asText();
        if (c.isArray()) { // OpenAI's content parts: the text parts, in order
            StringBuilder sb = new StringBuilder();
            for (JsonNode p : c) {
                if (!p.isObject()) throw new RoutecalException(where + ".content: a part is not an object {type, text}");
                if ("text".equals(p.path("type").asText())) sb.append(p.path("text").asText());
            }
            return sb.toString();
        }
        throw new RoutecalException(where + ".content must be a string or a list of parts");
    }
}
