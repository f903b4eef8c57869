package org.routecal.synth.cli;

import org.routecal.synth.llm.LlmOptions;
import picocli.CommandLine.Option;

import java.time.Duration;

/** picocli mixin: the helper LLM endpoint. The API key is read from the environment variable named here, never passed. */
public final class LlmOptionsMixin {
    @Option(names = "--llm-base-url", description = "OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000 (/v1 is appended when missing)")
    String baseUrl;

    @Option(names = "--llm-model", description = "model name sent to the endpoint")
    String model;

    @Option(names = "--llm-api-key-env", defaultValue = LlmOptions.DEFAULT_API_KEY_ENV, description = "environment variable holding the API key (default ${DEFAULT-VALUE})")
    String apiKeyEnv;

    @Option(names = "--llm-timeout", defaultValue = "120", description = "seconds per request (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = "--llm-retries", defaultValue = "4", description = "retries on 429/5xx/timeouts/malformed answers (default ${DEFAULT-VALUE})")
    int retries;

    @Option(names = "--llm-concurrency", defaultValue = "4", description = "requests in flight at once (default ${DEFAULT-VALUE})")
    int concurrency;

    @Option(names = "--llm-max-requests", defaultValue = "0", description = "request budget, retries included (0: unlimited)")
    long maxRequests;

    @Option(names = "--llm-max-tokens", defaultValue = "0", description = "token budget, prompt + completion (0: unlimited)")
    long maxTokens;

    /** Null when no endpoint is configured. */
    public LlmOptions options() {
        if (baseUrl == null || baseUrl.isBlank()) return null;
        if (model == null || model.isBlank()) throw new org.routecal.RoutecalException("--llm-model is required with --llm-base-url");
        return new LlmOptions(baseUrl, model, apiKeyEnv, Duration.ofSeconds(timeoutSeconds), retries, Duration.ofMillis(500),
                concurrency, maxRequests, maxTokens);
    }
}
