package org.routecal.synth.llm;

import java.time.Duration;

/**
 * How to reach an OpenAI-compatible endpoint and how hard to push it.
 *
 * @param baseUrl        server root, e.g. {@code http://127.0.0.1:8000} or {@code …/v1}; {@code /v1} is appended when
 *                       missing because LangChain4j posts to {@code baseUrl + "chat/completions"}
 * @param model          model name sent in every request
 * @param apiKeyEnv      name of the environment variable holding the API key (the key itself is never stored,
 *                       logged or written to any file); an unset variable means no Authorization header
 * @param timeout        per-request connect + read timeout
 * @param maxRetries     retries after the first attempt on 429, 5xx, timeouts, connection errors and malformed JSON
 * @param backoffBase    first backoff; attempt n waits {@code backoffBase·2^(n-1)} scaled by a jitter in [0.5, 1.5)
 * @param maxConcurrency requests in flight at once (a semaphore; callers beyond it wait)
 * @param maxRequests    budget: HTTP requests in total, retries included (≤ 0: unlimited)
 * @param maxTokens      budget: prompt + completion tokens in total as reported by the server (≤ 0: unlimited)
 */
public record LlmOptions(String baseUrl, String model, String apiKeyEnv, Duration timeout, int maxRetries,
                         Duration backoffBase, int maxConcurrency, long maxRequests, long maxTokens) {

    public static final String DEFAULT_API_KEY_ENV = "OPENAI_API_KEY";

    /** Defaults for everything but the endpoint and model. */
    public static LlmOptions of(String baseUrl, String model) {
        return new LlmOptions(baseUrl, model, DEFAULT_API_KEY_ENV, Duration.ofSeconds(120), 4, Duration.ofMillis(500), 4, 0, 0);
    }

    public LlmOptions withTimeout(Duration t) { return new LlmOptions(baseUrl, model, apiKeyEnv, t, maxRetries, backoffBase, maxConcurrency, maxRequests, maxTokens); }
    public LlmOptions withRetries(int n, Duration base) { return new LlmOptions(baseUrl, model, apiKeyEnv, timeout, n, base, maxConcurrency, maxRequests, maxTokens); }
    public LlmOptions withConcurrency(int n) { return new LlmOptions(baseUrl, model, apiKeyEnv, timeout, maxRetries, backoffBase, n, maxRequests, maxTokens); }
    public LlmOptions withBudget(long requests, long tokens) { return new LlmOptions(baseUrl, model, apiKeyEnv, timeout, maxRetries, backoffBase, maxConcurrency, requests, tokens); }
    public LlmOptions withApiKeyEnv(String env) { return new LlmOptions(baseUrl, model, env, timeout, maxRetries, backoffBase, maxConcurrency, maxRequests, maxTokens); }

    /** The base URL as LangChain4j needs it: ending in {@code /v1/}. */
    public String normalizedBaseUrl() {
        String u = baseUrl.trim();
        while (u.endsWith("/")) u = u.substring(0, u.length() - 1);
        if (!u.endsWith("/v1")) u = u + "/v1";
        return u + "/";
    }
}
