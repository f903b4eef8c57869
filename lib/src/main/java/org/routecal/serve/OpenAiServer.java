package org.routecal.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.routecal.RoutecalException;
import org.routecal.io.Json;
import org.routecal.tokenize.ChatMessage;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An OpenAI-compatible HTTP server for one {@link ServedModel}, on the JDK's HttpServer (no extra dependency).
 *
 * <p>Endpoints: {@code GET /v1/models}, {@code POST /v1/completions} (prompt as a string, strings, token ids or lists
 * of token ids; {@code echo} and {@code logprobs} as lm-eval's local-completions reads them: {@code
 * choices[i].logprobs.{tokens, token_logprobs, top_logprobs, text_offset}}, the first prompt token's logprob null;
 * vLLM's {@code return_tokens_as_token_ids}),
 * {@code POST /v1/chat/completions} (incl. {@code stream: true} as server-sent events ending in {@code data: [DONE]}),
 * {@code POST /tokenize} (vLLM's shape: {@code {count, max_model_len, tokens}}), {@code GET /health}.
 *
 * <p>At most {@code maxConcurrent} generations run at once; up to {@code maxQueue} more wait; beyond that a request
 * gets 429. {@link #stop} stops accepting, lets running requests finish (up to a grace period) and frees the threads.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final ObjectMapper JSON = Json.MAPPER;
    private final ServedModel model;
    private final HttpServer http;
    private final ExecutorService executor;
    private final Semaphore running;
    private final int maxQueue;
    private final AtomicInteger waiting = new AtomicInteger();

    private OpenAiServer(ServedModel model, HttpServer http, ExecutorService executor, int maxConcurrent, int maxQueue) {
        this.model = model;
        this.http = http;
        this.executor = executor;
        this.running = new Semaphore(maxConcurrent, true);
        this.maxQueue = maxQueue;
    }

    /** Binds {@code host:port} (port 0: any free port) and starts serving. */
    public static OpenAiServer start(ServedModel model, String host, int port, int maxConcurrent, int maxQueue) {
        try {
            HttpServer http = HttpServer.create(new InetSocketAddress(host, port), 128);
            ExecutorService ex = Executors.newFixedThreadPool(maxConcurrent + maxQueue + 2, r -> {
                Thread t = new Thread(r, "serve-http");
                t.setDaemon(true);
                return t;
            });
            OpenAiServer s = new OpenAiServer(model, http, ex, Math.max(1, maxConcurrent), Math.max(0, maxQueue));
            http.setExecutor(ex);
            http.createContext("/v1/models", s.wrap("GET", s::models));
            http.createContext("/v1/completions", s.wrap("POST", s::completions));
            http.createContext("/v1/chat/completions", s.wrap("POST", s::chat));
            http.createContext("/tokenize", s.wrap("POST", s::tokenize));
            http.createContext("/health", s.wrap("GET", ex2 -> send(ex2, 200, JSON.createObjectNode().put("status", "ok"))));
            http.start();
            return s;
        } catch (IOException e) {
            throw new RoutecalException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    public int port() { return http.getAddress().getPort(); }
    public String baseUrl() { return "http://" + http.getAddress().getHostString() + ":" + port() + "/v1"; }

    /** Stops accepting, waits up to {@code graceSeconds} for running requests, then releases the threads. */
    public void stop(int graceSeconds) {
        http.stop(graceSeconds);
        executor.shutdown();
        try {
            if (!executor.awaitTermination(graceSeconds, TimeUnit.SECONDS)) executor.shutdownNow();
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    @Override public void close() { stop(2); }

    private interface Handler { void handle(HttpExchange ex) throws IOException; }

    /** A request error with its HTTP status and OpenAI error type. */
    private static final class ApiError extends RuntimeException {
        final int status;
        ApiError(int status, String message) { super(message); this.status = status; }
    }

    private com.sun.net.httpserver.HttpHandler wrap(String method, Handler h) {
        return ex -> {
            try {
                if (!method.equals(ex.getRequestMethod())) throw new ApiError(405, "use " + method + " for " + ex.getRequestURI().getPath());
                h.handle(ex);
            } catch (ApiError e) {
                sendError(ex, e.status, e.getMessage());
            } catch (RoutecalException e) {
                sendError(ex, 400, e.getMessage());
            } catch (IOException e) {
                // client went away mid-response: nothing more to send
            } catch (RuntimeException e) {
                sendError(ex, 500, "internal error: " + e);
            } finally {
                ex.close();
            }
        };
    }

    private void models(HttpExchange ex) throws IOException {
        ObjectNode n = JSON.createObjectNode().put("object", "list");
        n.putArray("data").addObject().put("id", model.id()).put("object", "model").put("created", 0).put("owned_by", "routecal")
                .put("max_model_len", model.maxContext());
        send(ex, 200, n);
    }

    private void tokenize(HttpExchange ex) throws IOException {
        JsonNode body = body(ex);
        String text;
        if (body.has("messages")) text = model.codec().renderChat(messages(body), true, Map.of());
        else if (body.path("prompt").isTextual()) text = body.get("prompt").asText();
        else if (body.path("text").isTextual()) text = body.get("text").asText();
        else throw new ApiError(400, "tokenize needs 'prompt' (string) or 'messages'");
        int[] ids = model.codec().ids(text);
        ObjectNode n = JSON.createObjectNode().put("count", ids.length).put("max_model_len", model.maxContext());
        ArrayNode t = n.putArray("tokens");
        for (int id : ids) t.add(id);
        send(ex, 200, n);
    }

    private void completions(HttpExchange ex) throws IOException {
        JsonNode body = body(ex);
        List<int[]> prompts = prompts(body.get("prompt"));
        Generator.Params p = params(body, 16);
        boolean stream = body.path("stream").asBoolean(false);
        String id = "cmpl-" + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        if (stream) {
            if (prompts.size() != 1) throw new ApiError(400, "streaming supports one prompt per request");
            Sse sse = new Sse(ex);
            Generator.Output out = generate(prompts.get(0), p, text -> sse.send(completionChunk(id, created, text, null)));
            sse.send(completionChunk(id, created, "", out.finishReason()));
            sse.done();
            return;
        }
        ObjectNode n = JSON.createObjectNode().put("id", id).put("object", "text_completion").put("created", created).put("model", model.id());
        ArrayNode choices = n.putArray("choices");
        int promptTokens = 0, completionTokens = 0;
        for (int i = 0; i < prompts.size(); i++) {
            Generator.Output out = generate(prompts.get(i), p, t -> {});
            promptTokens += out.promptIds().length;
            completionTokens += out.generated().size();
            ObjectNode c = choices.addObject();
            String prefix = p.echo() ? model.codec().decode(out.promptIds()) : "";
            c.put("index", i).put("text", prefix + out.text()).put("finish_reason", out.finishReason());
            if (p.logprobs() >= 0) c.set("logprobs", logprobs(out, p.echo(), body.path("return_tokens_as_token_ids").asBoolean(false)));
            else c.putNull("logprobs");
        }
        n.set("usage", usage(promptTokens, completionTokens));
        send(ex, 200, n);
    }

    private void chat(HttpExchange ex) throws IOException {
        JsonNode body = body(ex);
        String prompt = model.codec().renderChat(messages(body), true, Map.of());
        int[] ids = model.codec().ids(prompt);
        int maxTokens = body.has("max_completion_tokens") ? body.get("max_completion_tokens").asInt() : body.path("max_tokens").asInt(Math.max(1, Math.min(512, model.maxContext() - ids.length)));
        Generator.Params p = new Generator.Params(maxTokens, body.path("temperature").asDouble(1.0), body.path("top_p").asDouble(1.0),
                body.path("seed").asLong(0), stops(body.get("stop")), -1, false);
        String id = "chatcmpl-" + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        if (body.path("stream").asBoolean(false)) {
            Sse sse = new Sse(ex);
            sse.send(chatChunk(id, created, JSON.createObjectNode().put("role", "assistant").put("content", ""), null));
            Generator.Output out = generate(ids, p, text -> sse.send(chatChunk(id, created, JSON.createObjectNode().put("content", text), null)));
            sse.send(chatChunk(id, created, JSON.createObjectNode(), out.finishReason()));
            sse.done();
            return;
        }
        Generator.Output out = generate(ids, p, t -> {});
        ObjectNode n = JSON.createObjectNode().put("id", id).put("object", "chat.completion").put("created", created).put("model", model.id());
        ObjectNode c = n.putArray("choices").addObject();
        c.put("index", 0).put("finish_reason", out.finishReason());
        c.putObject("message").put("role", "assistant").put("content", out.text());
        n.set("usage", usage(ids.length, out.generated().size()));
        send(ex, 200, n);
    }

    /** Runs one generation under the concurrency limit (429 when the queue is full). */
    private Generator.Output generate(int[] prompt, Generator.Params p, Consumer<String> onText) {
        if (prompt.length == 0) throw new ApiError(400, "prompt is empty");
        if (prompt.length + p.maxTokens() > model.maxContext()) {
            throw new ApiError(400, "prompt (" + prompt.length + " tokens) + max_tokens (" + p.maxTokens() + ") exceeds the context of " + model.maxContext());
        }
        for (int id : prompt) if (id < 0 || id >= model.vocabSize()) throw new ApiError(400, "token id " + id + " outside the vocabulary [0, " + model.vocabSize() + ")");
        if (!running.tryAcquire()) {
            if (waiting.incrementAndGet() > maxQueue) {
                waiting.decrementAndGet();
                throw new ApiError(429, "server busy: " + maxQueue + " requests already queued");
            }
            try {
                running.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiError(503, "server shutting down");
            } finally {
                waiting.decrementAndGet();
            }
        }
        try {
            return Generator.run(model, prompt, p, onText);
        } finally {
            running.release();
        }
    }

    private Generator.Params params(JsonNode body, int defaultMaxTokens) {
        int logprobs = body.hasNonNull("logprobs") ? body.get("logprobs").asInt() : -1;
        if (logprobs > 20) throw new ApiError(400, "logprobs must be ≤ 20");
        return new Generator.Params(body.path("max_tokens").asInt(defaultMaxTokens), body.path("temperature").asDouble(1.0),
                body.path("top_p").asDouble(1.0), body.path("seed").asLong(0), stops(body.get("stop")), logprobs,
                body.path("echo").asBoolean(false));
    }

    /** {@code asIds}: vLLM's {@code return_tokens_as_token_ids}, tokens written {@code token_id:<id>} (lossless). */
    private ObjectNode logprobs(Generator.Output out, boolean echo, boolean asIds) {
        ObjectNode lp = JSON.createObjectNode();
        ArrayNode tokens = lp.putArray("tokens"), tlp = lp.putArray("token_logprobs"), top = lp.putArray("top_logprobs"),
                offsets = lp.putArray("text_offset");
        List<Generator.Position> all = new ArrayList<>();
        if (echo) all.addAll(out.prompt());
        all.addAll(out.generated());
        int offset = 0;
        for (Generator.Position pos : all) {
            String t = model.codec().decode(new int[]{pos.id()});
            tokens.add(asIds ? "token_id:" + pos.id() : t);
            offsets.add(offset);
            offset += t.length();
            if (pos.logprob() == null) {
                tlp.addNull();
                top.addNull();
            } else {
                tlp.add(pos.logprob());
                ObjectNode m = top.addObject();
                for (int k = 0; k < pos.topIds().length; k++) {
                    String key = asIds ? "token_id:" + pos.topIds()[k] : model.codec().decode(new int[]{pos.topIds()[k]});
                    if (!m.has(key)) m.put(key, pos.topLogprobs()[k]);
                }
            }
        }
        return lp;
    }

    private List<int[]> prompts(JsonNode prompt) {
        if (prompt == null || prompt.isNull()) throw new ApiError(400, "missing 'prompt'");
        List<int[]> out = new ArrayList<>();
        if (prompt.isTextual()) out.add(model.codec().ids(prompt.asText()));
        else if (prompt.isArray() && !prompt.isEmpty() && prompt.get(0).isInt()) out.add(ids(prompt));
        else if (prompt.isArray()) {
            for (JsonNode p : prompt) {
                if (p.isTextual()) out.add(model.codec().ids(p.asText()));
                else if (p.isArray()) out.add(ids(p));
                else throw new ApiError(400, "'prompt' entries must be strings or token-id lists");
            }
        } else throw new ApiError(400, "'prompt' must be a string, a list of strings, or token ids");
        if (out.isEmpty()) throw new ApiError(400, "'prompt' is empty");
        return out;
    }

    private static int[] ids(JsonNode arr) {
        int[] ids = new int[arr.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!arr.get(i).isInt()) throw new ApiError(400, "token id at position " + i + " is not an integer");
            ids[i] = arr.get(i).asInt();
        }
        return ids;
    }

    /** The request's messages as the one message type (reasoning_content, tool calls and names kept), roles checked. */
    private static List<ChatMessage> messages(JsonNode body) {
        JsonNode ms = body.get("messages");
        if (ms == null || !ms.isArray() || ms.isEmpty()) throw new ApiError(400, "'messages' must be a non-empty list");
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) {
            ChatMessage m;
            try {
                m = ChatMessage.fromJson(ms.get(i), "messages[" + i + "]");
            } catch (RoutecalException e) {
                throw new ApiError(400, e.getMessage());
            }
            if (!m.knownRole()) throw new ApiError(400, "messages[" + i + "].role '" + m.role() + "' is not one of " + new java.util.TreeSet<>(ChatMessage.ROLES));
            out.add(m);
        }
        return out;
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) return List.of();
        if (stop.isTextual()) return List.of(stop.asText());
        List<String> out = new ArrayList<>();
        stop.forEach(s -> out.add(s.asText()));
        return out;
    }

    private ObjectNode completionChunk(String id, long created, String text, String finish) {
        ObjectNode n = JSON.createObjectNode().put("id", id).put("object", "text_completion").put("created", created).put("model", model.id());
        ObjectNode c = n.putArray("choices").addObject().put("index", 0).put("text", text);
        c.putNull("logprobs");
        if (finish == null) c.putNull("finish_reason"); else c.put("finish_reason", finish);
        return n;
    }

    private ObjectNode chatChunk(String id, long created, ObjectNode delta, String finish) {
        ObjectNode n = JSON.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created).put("model", model.id());
        ObjectNode c = n.putArray("choices").addObject().put("index", 0);
        c.set("delta", delta);
        if (finish == null) c.putNull("finish_reason"); else c.put("finish_reason", finish);
        return n;
    }

    private static ObjectNode usage(int prompt, int completion) {
        return JSON.createObjectNode().put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
    }

    private static JsonNode body(HttpExchange ex) throws IOException {
        byte[] b = ex.getRequestBody().readAllBytes();
        try {
            JsonNode n = JSON.readTree(b);
            if (n == null || !n.isObject()) throw new ApiError(400, "request body must be a JSON object");
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ApiError(400, "request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static void send(HttpExchange ex, int status, JsonNode n) throws IOException {
        byte[] b = JSON.writeValueAsBytes(n);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    private static void sendError(HttpExchange ex, int status, String message) {
        ObjectNode n = JSON.createObjectNode();
        n.putObject("error").put("message", message).put("type", status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error").put("code", status);
        try {
            send(ex, status, n);
        } catch (IOException | IllegalStateException ignored) {
            // headers already sent (mid-stream) or client gone: the connection closes
        }
    }

    /** Server-sent events: {@code data: <json>\n\n} per chunk, flushed, ending with {@code data: [DONE]}. */
    private static final class Sse {
        private final OutputStream os;

        Sse(HttpExchange ex) throws IOException {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            ex.sendResponseHeaders(200, 0);
            os = ex.getResponseBody();
        }

        void send(JsonNode n) {
            write("data: " + n + "\n\n");
        }

        void done() {
            write("data: [DONE]\n\n");
        }

        private void write(String s) {
            try {
                os.write(s.getBytes(StandardCharsets.UTF_8));
                os.flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
