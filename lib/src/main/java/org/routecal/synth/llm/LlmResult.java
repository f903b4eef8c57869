package org.routecal.synth.llm;

/**
 * A successful answer.
 *
 * @param content          the answer text (may be empty: a reasoning model can spend its budget on thinking; the
 *                         caller decides what empty means)
 * @param reasoning        the reasoning/thinking text the server returned separately, or null
 * @param promptTokens     as reported by the server (0 when absent)
 * @param completionTokens as reported by the server (0 when absent)
 * @param finishReason     e.g. STOP, LENGTH (null when absent)
 * @param attempts         HTTP requests this call took (1 = no retry)
 * @param callId           the id under which every attempt of this call is in {@code llm_calls.jsonl}
 */
public record LlmResult(String content, String reasoning, int promptTokens, int completionTokens, String finishReason,
                        int attempts, long latencyMillis, String callId) {}
