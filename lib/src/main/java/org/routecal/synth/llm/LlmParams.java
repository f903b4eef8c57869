package org.routecal.synth.llm;

import java.util.Map;

/**
 * Sampling parameters of one chat request; null fields are left to the server's defaults.
 *
 * @param extraBody server-specific body keys sent as-is (e.g. {@code chat_template_kwargs}, {@code reasoning_budget})
 */
public record LlmParams(Double temperature, Double topP, Integer maxTokens, Integer seed, Map<String, Object> extraBody) {
    public static final LlmParams DEFAULT = new LlmParams(null, null, null, null, Map.of());

    public LlmParams {
        extraBody = extraBody == null ? Map.of() : Map.copyOf(extraBody);
    }
}
