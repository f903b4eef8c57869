package org.routecal.synth.llm;

import org.routecal.io.Json;
import org.routecal.io.Jsonl;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiChatRequestParameters;
import dev.langchain4j.model.openai.OpenAiChatResponseMetadata;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Chat calls to an OpenAI-compatible endpoint through LangChain4j, with our own retry loop (LangChain4j's is switched
 * off so that every attempt is visible and recorded), a concurrency semaphore and a request/token budget.
 *
 * <p>Every attempt appends one line to the call log ({@code <run>/llm_calls.jsonl}), fsync'ed:
 * {@code {ts, call_id, purpose, attempt, model, base_url, params, messages (first attempt only), outcome, status,
 * error, raw_response, content, reasoning, prompt_tokens, completion_tokens, finish_reason, latency_ms}}. Outcomes:
 * {@code ok}, {@code http_<status>}, {@code timeout}, {@code connection_error}, {@code malformed_response},
 * {@code server_error}, {@code error}, {@code budget_exhausted}. The API key is read from the environment at construction and is never
 * written anywhere (not even the name of the variable's value; only the variable's name is kept).
 */
public final class LlmClient implements AutoCloseable {
    private final LlmOptions options;
    private final OpenAiChatModel model;
    private final Jsonl.Appender log;
    private final Semaphore slots;
    private final AtomicLong requestsUsed = new AtomicLong();
    private final AtomicLong tokensUsed = new AtomicLong();
    private final Random jitter;

    /** A client whose API key comes from the process environment (variable {@link LlmOptions#apiKeyEnv()}). */
    public static LlmClient create(LlmOptions options, Path callLog) {
        return new LlmClient(options, callLog, System::getenv, new Random());
    }

    /** {@code env} looks environment variables up (tests pass their own table instead of the process's). */
    public LlmClient(LlmOptions options, Path callLog, Function<String, String> env, Random jitter) {
        this.options = options;
        this.jitter = jitter;
        String key = options.apiKeyEnv() == null ? null : env.apply(options.apiKeyEnv());
        this.model = OpenAiChatModel.builder()
                .baseUrl(options.normalizedBaseUrl())
                .apiKey(key == null || key.isBlank() ? null : key)
                .modelName(options.model())
                .timeout(options.timeout())
                .maxRetries(0)
                .build();
        this.log = Jsonl.appender(callLog);
        this.slots = new Semaphore(Math.max(1, options.maxConcurrency()), true);
    }

    public LlmOptions options() { return options; }
    public long requestsUsed() { return requestsUsed.get(); }
    public long tokensUsed() { return tokensUsed.get(); }
    public Path callLog() { return log.file(); }

    /** True when no further request may be sent. */
    public boolean budgetExhausted() {
        return (options.maxRequests() > 0 && requestsUsed.get() >= options.maxRequests())
                || (options.maxTokens() > 0 && tokensUsed.get() >= options.maxTokens());
    }

    /**
     * One chat call with retries. {@code purpose} labels the log lines (e.g. {@code extract/balance/code} or a
     * synthetic row key). Throws {@link LlmException} when the call fails for good or the budget is spent.
     */
    public LlmResult chat(String purpose, List<org.routecal.tokenize.ChatMessage> messages, LlmParams params) {
        String callId = UUID.randomUUID().toString();
        List<ChatMessage> lc = new ArrayList<>();
        for (org.routecal.tokenize.ChatMessage m : messages) {
            lc.add(switch (m.role()) {
                case "system" -> SystemMessage.from(m.content());
                case "user" -> UserMessage.from(m.content());
                case "assistant" -> AiMessage.from(m.content());
                default -> throw new IllegalArgumentException("the helper LLM takes system, user and assistant messages, not '" + m.role() + "'");
            });
        }
        OpenAiChatRequestParameters.Builder pb = OpenAiChatRequestParameters.builder()
                .modelName(options.model()).temperature(params.temperature()).topP(params.topP())
                .maxOutputTokens(params.maxTokens()).seed(params.seed());
        if (!params.extraBody().isEmpty()) pb.customParameters(params.extraBody());
        ChatRequest request = ChatRequest.builder().messages(lc).parameters(pb.build()).build();

        long firstStart = System.nanoTime();
        Throwable last = null;
        for (int attempt = 1; attempt <= options.maxRetries() + 1; attempt++) {
            if (attempt > 1) sleepBackoff(attempt - 1);
            ObjectNode rec = record(callId, purpose, attempt, messages, params);
            if (!reserveRequest()) {
                rec.put("outcome", "budget_exhausted");
                log.append(rec);
                throw new LlmException(LlmException.Kind.BUDGET_EXHAUSTED, "LLM budget exhausted (" + requestsUsed.get()
                        + " requests, " + tokensUsed.get() + " tokens used; limits " + options.maxRequests() + " requests, "
                        + options.maxTokens() + " tokens)", last);
            }
            long t0 = System.nanoTime();
            try {
                ChatResponse response;
                slots.acquireUninterruptibly();
                try {
                    response = model.chat(request);
                } finally {
                    slots.release();
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                rec.put("latency_ms", ms);
                String raw = rawBody(response);
                if (raw != null) rec.put("raw_response", raw);
                String malformed = checkBody(raw);
                if (malformed != null) {
                    rec.put("outcome", "malformed_response").put("error", malformed);
                    log.append(rec);
                    last = new IOException(malformed);
                    continue;
                }
                int in = 0, out = 0;
                if (response.tokenUsage() != null) {
                    in = nz(response.tokenUsage().inputTokenCount());
                    out = nz(response.tokenUsage().outputTokenCount());
                }
                tokensUsed.addAndGet(in + out);
                String content = response.aiMessage().text() == null ? "" : response.aiMessage().text();
                String reasoning = response.aiMessage().thinking();
                String finish = response.finishReason() == null ? null : response.finishReason().name();
                rec.put("outcome", "ok").put("content", content).put("reasoning", reasoning)
                        .put("prompt_tokens", in).put("completion_tokens", out).put("finish_reason", finish);
                log.append(rec);
                return new LlmResult(content, reasoning, in, out, finish, attempt,
                        (System.nanoTime() - firstStart) / 1_000_000, callId);
            } catch (RuntimeException e) {
                rec.put("latency_ms", (System.nanoTime() - t0) / 1_000_000);
                Failure f = classify(e);
                rec.put("outcome", f.outcome).put("error", String.valueOf(e.getMessage()));
                if (f.status > 0) rec.put("status", f.status);
                log.append(rec);
                last = e;
                if (!f.retriable) {
                    throw new LlmException(LlmException.Kind.NOT_RETRIABLE, "LLM call to " + options.normalizedBaseUrl()
                            + " failed (" + f.outcome + "): " + e.getMessage(), e);
                }
            }
        }
        throw new LlmException(LlmException.Kind.RETRIES_EXHAUSTED, "LLM call to " + options.normalizedBaseUrl()
                + " failed after " + (options.maxRetries() + 1) + " attempts: " + (last == null ? "" : last.getMessage()), last);
    }

    private boolean reserveRequest() {
        if (options.maxTokens() > 0 && tokensUsed.get() >= options.maxTokens()) return false;
        if (options.maxRequests() <= 0) {
            requestsUsed.incrementAndGet();
            return true;
        }
        while (true) {
            long used = requestsUsed.get();
            if (used >= options.maxRequests()) return false;
            if (requestsUsed.compareAndSet(used, used + 1)) return true;
        }
    }

    private void sleepBackoff(int retry) {
        long base = options.backoffBase().toMillis() << Math.min(retry - 1, 16);
        double factor;
        synchronized (jitter) {
            factor = 0.5 + jitter.nextDouble();
        }
        try {
            Thread.sleep((long) (base * factor));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LlmException(LlmException.Kind.NOT_RETRIABLE, "interrupted while backing off", e);
        }
    }

    private ObjectNode record(String callId, String purpose, int attempt, List<org.routecal.tokenize.ChatMessage> messages, LlmParams params) {
        ObjectNode rec = Json.MAPPER.createObjectNode();
        rec.put("ts", Instant.now().toString()).put("call_id", callId).put("purpose", purpose).put("attempt", attempt)
                .put("model", options.model()).put("base_url", options.normalizedBaseUrl());
        rec.set("params", Json.MAPPER.valueToTree(params));
        if (attempt == 1) {
            ArrayNode ms = rec.putArray("messages");
            for (org.routecal.tokenize.ChatMessage m : messages) ms.addObject().put("role", m.role()).put("content", m.content());
        }
        return rec;
    }

    private static String rawBody(ChatResponse response) {
        if (response.metadata() instanceof OpenAiChatResponseMetadata md && md.rawHttpResponse() != null) {
            return md.rawHttpResponse().body();
        }
        return null;
    }

    /** Null when the body is a usable chat completion; otherwise what is wrong with it. */
    private static String checkBody(String raw) {
        if (raw == null) return null;
        try {
            JsonNode n = Json.MAPPER.readTree(raw);
            JsonNode choices = n.path("choices");
            if (!choices.isArray() || choices.isEmpty()) return "response has no choices";
            if (!choices.get(0).path("message").isObject()) return "choices[0] has no message";
            return null;
        } catch (JsonProcessingException e) {
            return "response is not JSON: " + e.getOriginalMessage();
        }
    }

    private record Failure(String outcome, int status, boolean retriable) {}

    private static Failure classify(Throwable e) {
        // The HTTP status first, wherever it sits: LangChain4j wraps HttpException in its own mapped exceptions.
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof HttpException h) {
                int s = h.statusCode();
                return new Failure("http_" + s, s, s == 429 || s == 408 || s >= 500);
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.http.HttpTimeoutException || t instanceof java.net.SocketTimeoutException
                    || t instanceof java.util.concurrent.TimeoutException || t instanceof dev.langchain4j.exception.TimeoutException) {
                return new Failure("timeout", 0, true);
            }
            if (t instanceof JsonProcessingException) return new Failure("malformed_response", 0, true);
            if (t instanceof IOException) return new Failure("connection_error", 0, true);
            // LangChain4j's own verdict, e.g. "no choices returned in response" on a 200 without choices
            if (t instanceof dev.langchain4j.exception.RetriableException) return new Failure("server_error", 0, true);
            if (t.getCause() == t) break;
        }
        return new Failure("error", 0, false);
    }

    private static int nz(Integer i) { return i == null ? 0 : i; }

    @Override public void close() {
        log.close();
    }
}
