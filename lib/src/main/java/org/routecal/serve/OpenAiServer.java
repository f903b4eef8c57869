package org.routecal.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.routecal.RoutecalException;
import org.routecal.tokenize.ChatMessage;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import static org.routecal.serve.HttpGate.JSON;
import static org.routecal.serve.HttpGate.send;

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
 * <p>Hostile or careless requests cost little (see SECURITY.md): {@link HttpGate} checks path, drain, API key, method
 * and body size; {@link Admission} hands out a ticket before the body is read (429 when full); {@link RequestFields}
 * refuses wrong types and ranges by name; a text prompt is measured against the context by its length
 * ({@link ServedModel#tokensAtLeast}) before it is tokenized, and tokenizing and generating happen only in a turn.
 * {@link #drain} is the graceful stop.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(OpenAiServer.class.getName());
    /** How long cancelled generations get to send their error answers after a drain's deadline. */
    private static final Duration CANCEL_GRACE = Duration.ofSeconds(5);
    private static final int MAX_LOGPROBS = 20;

    /**
     * How the server listens and what it admits. {@code maxConcurrent} generations run at once and {@code maxQueue}
     * more wait; a request beyond that gets 429. Bodies over {@code maxBodyBytes} get 413. With an {@code apiKey},
     * every endpoint but {@code /health} needs {@code Authorization: Bearer <key>}.
     */
    public record Options(String host, int port, int maxConcurrent, int maxQueue, long maxBodyBytes, String apiKey) {
        public static final long DEFAULT_MAX_BODY_BYTES = 8L << 20;

        public Options {
            if (maxConcurrent < 1) throw new RoutecalException("--max-concurrent must be ≥ 1, got " + maxConcurrent);
            if (maxQueue < 0) throw new RoutecalException("--max-queue must be ≥ 0, got " + maxQueue);
            if (maxBodyBytes < 1024 || maxBodyBytes > Integer.MAX_VALUE - 1) {
                throw new RoutecalException("the body limit must be between 1 KiB and 2 GiB, got " + maxBodyBytes + " bytes");
            }
            if (apiKey != null && apiKey.isBlank()) throw new RoutecalException("--api-key is empty");
        }

        /** 127.0.0.1, any free port, one generation at a time, 16 waiting, 8 MiB bodies, no key. */
        public static Options loopback() { return new Options("127.0.0.1", 0, 1, 16, DEFAULT_MAX_BODY_BYTES, null); }

        public Options withAddress(String host, int port) { return new Options(host, port, maxConcurrent, maxQueue, maxBodyBytes, apiKey); }
        public Options withLimits(int maxConcurrent, int maxQueue) { return new Options(host, port, maxConcurrent, maxQueue, maxBodyBytes, apiKey); }
        public Options withMaxBodyBytes(long bytes) { return new Options(host, port, maxConcurrent, maxQueue, bytes, apiKey); }
        public Options withApiKey(String key) { return new Options(host, port, maxConcurrent, maxQueue, maxBodyBytes, key); }

        @Override public String toString() { // never print the key
            return "Options[" + host + ":" + port + ", concurrent " + maxConcurrent + ", queue " + maxQueue + ", body ≤ "
                    + HttpGate.sizeText(maxBodyBytes) + (apiKey == null ? ", no API key]" : ", API key set]");
        }
    }

    private final ServedModel model;
    private final HttpServer http;
    private final ExecutorService executor;
    private final Admission admission;
    private final HttpGate gate;
    private final AtomicBoolean stopped = new AtomicBoolean();

    private OpenAiServer(ServedModel model, HttpServer http, ExecutorService executor, Options options) {
        this.model = model;
        this.http = http;
        this.executor = executor;
        this.admission = new Admission(options.maxConcurrent(), options.maxQueue());
        this.gate = new HttpGate(options.maxBodyBytes(), options.apiKey(), admission);
    }

    /** Binds {@code options.host():options.port()} (port 0: any free port) and starts serving. */
    public static OpenAiServer start(ServedModel model, Options options) {
        try {
            HttpServer http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 128);
            // threads for every admissible request, plus two that answer 429/503 and /health while all are busy
            ExecutorService ex = Executors.newFixedThreadPool(options.maxConcurrent() + options.maxQueue() + 2, r -> {
                Thread t = new Thread(r, "serve-http");
                t.setDaemon(true);
                return t;
            });
            OpenAiServer s = new OpenAiServer(model, http, ex, options);
            http.setExecutor(ex);
            http.createContext("/v1/models", s.gate.guarded("GET", s::models));
            http.createContext("/v1/completions", s.gate.guarded("POST", s.admitted(s::completions)));
            http.createContext("/v1/chat/completions", s.gate.guarded("POST", s.admitted(s::chat)));
            http.createContext("/tokenize", s.gate.guarded("POST", s.admitted(s::tokenize)));
            http.createContext("/health", s.gate.open("GET", ex2 -> send(ex2, 200, JSON.createObjectNode().put("status", "ok"))));
            http.start();
            return s;
        } catch (IOException e) {
            throw new RoutecalException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        }
    }

    public int port() { return http.getAddress().getPort(); }
    public String baseUrl() { return "http://" + http.getAddress().getHostString() + ":" + port() + "/v1"; }

    /**
     * The graceful stop: from now on every request gets 503 and queued ones leave with 503; running ones may finish
     * until {@code timeout}, after which they are cancelled (a plain answer becomes a 503, a stream ends with an error
     * event and {@code [DONE]}). Then the port closes. Returns how many were cancelled. Idempotent.
     */
    public int drain(Duration timeout) {
        if (!stopped.compareAndSet(false, true)) return 0;
        int cancelled = 0;
        try {
            cancelled = admission.drain(timeout, CANCEL_GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            http.stop(1); // every admitted request has answered: returns at once, closing idle connections
            executor.shutdownNow();
        }
        return cancelled;
    }

    @Override public void close() { drain(Duration.ofSeconds(2)); }

    /** An endpoint's work, given its parsed body and its admission ticket. */
    private interface Work { void handle(HttpExchange ex, JsonNode body, Admission.Ticket ticket) throws IOException, InterruptedException; }

    /** A ticket first (429 at once when full), then the body, read only up to the cap. */
    private HttpGate.Endpoint admitted(Work work) {
        return ex -> {
            try (Admission.Ticket ticket = admission.enter()) {
                work.handle(ex, gate.body(ex), ticket);
            }
        };
    }

    private void models(HttpExchange ex) throws IOException {
        ObjectNode n = JSON.createObjectNode().put("object", "list");
        n.putArray("data").addObject().put("id", model.id()).put("object", "model").put("created", 0).put("owned_by", "routecal")
                .put("max_model_len", model.maxContext());
        send(ex, 200, n);
    }

    /** The fields every endpoint shares: the model name (404 when it is not ours) and the features we do not have. */
    private RequestFields fields(JsonNode body) {
        RequestFields f = new RequestFields(body);
        String requested = f.text("model");
        if (requested != null && !requested.equals(model.id())) {
            throw new ApiError(404, "the model '" + requested + "' does not exist; this server serves '" + model.id() + "'", "model");
        }
        f.onlyNeutral("n", "must be 1: this server returns one choice per prompt");
        f.onlyNeutral("best_of", "must be 1: this server returns one choice per prompt");
        f.onlyNeutral("presence_penalty", "is not implemented; only 0 is accepted");
        f.onlyNeutral("frequency_penalty", "is not implemented; only 0 is accepted");
        f.onlyNeutral("logit_bias", "is not implemented; only an empty object is accepted");
        f.onlyNeutral("tools", "is not implemented (no tool calling)");
        f.onlyNeutral("functions", "is not implemented (no function calling)");
        f.onlyNeutral("response_format", "is not implemented; only {\"type\": \"text\"} is accepted");
        return f;
    }

    private static Generator.Params sampling(RequestFields f, int maxTokens, int logprobs, boolean echo) {
        return new Generator.Params(maxTokens, f.number("temperature", 0, false, 2, 1.0), f.number("top_p", 0, true, 1, 1.0),
                f.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE, 0), f.stops(), logprobs, echo);
    }

    private void tokenize(HttpExchange ex, JsonNode body, Admission.Ticket ticket) throws IOException {
        RequestFields f = fields(body);
        String text, field;
        if (body.has("messages")) {
            text = model.codec().renderChat(messages(body), true, Map.of());
            field = "messages";
        } else if (f.has("prompt")) {
            text = f.text("prompt");
            field = "prompt";
        } else if (f.has("text")) {
            text = f.text("text");
            field = "text";
        } else {
            throw new ApiError(400, "tokenize needs 'prompt' (string) or 'messages'", "prompt");
        }
        checkLength(text, 0, field);
        // no turn needed: tokenizing a text already bounded by the context is short, and the ticket bounds how many run
        int[] ids = model.codec().ids(text);
        ObjectNode n = JSON.createObjectNode().put("count", ids.length).put("max_model_len", model.maxContext());
        ArrayNode t = n.putArray("tokens");
        for (int id : ids) t.add(id);
        send(ex, 200, n);
    }

    private void completions(HttpExchange ex, JsonNode body, Admission.Ticket ticket) throws IOException, InterruptedException {
        RequestFields f = fields(body);
        int maxTokens = f.integer("max_tokens", 0, model.maxContext(), 16);
        Generator.Params p = sampling(f, maxTokens, f.integer("logprobs", 0, MAX_LOGPROBS, -1), f.bool("echo", false));
        boolean stream = f.bool("stream", false), asIds = f.bool("return_tokens_as_token_ids", false);
        List<Prompt> prompts = prompts(body.get("prompt"));
        if (stream && prompts.size() != 1) throw ApiError.badField("stream", "streaming supports one prompt per request");
        for (Prompt pr : prompts) if (pr.text() != null) checkLength(pr.text(), maxTokens, "prompt");
        ticket.awaitTurn();
        List<int[]> ids = new ArrayList<>();
        for (Prompt pr : prompts) ids.add(checkContext(pr.text() != null ? model.codec().ids(pr.text()) : pr.ids(), maxTokens, "prompt"));
        String id = "cmpl-" + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        if (stream) {
            streamed(ex, sse -> {
                Generator.Output out = Generator.run(model, ids.get(0), p, text -> sse.send(completionChunk(id, created, text, null)), ticket::cancelled);
                sse.send(completionChunk(id, created, "", out.finishReason()));
            });
            return;
        }
        ObjectNode n = JSON.createObjectNode().put("id", id).put("object", "text_completion").put("created", created).put("model", model.id());
        ArrayNode choices = n.putArray("choices");
        int promptTokens = 0, completionTokens = 0;
        for (int i = 0; i < ids.size(); i++) {
            Generator.Output out = Generator.run(model, ids.get(i), p, t -> {}, ticket::cancelled);
            promptTokens += out.promptIds().length;
            completionTokens += out.generated().size();
            ObjectNode c = choices.addObject();
            String prefix = p.echo() ? model.codec().decode(out.promptIds()) : "";
            c.put("index", i).put("text", prefix + out.text()).put("finish_reason", out.finishReason());
            if (p.logprobs() >= 0) c.set("logprobs", logprobs(out, p.echo(), asIds));
            else c.putNull("logprobs");
        }
        n.set("usage", usage(promptTokens, completionTokens));
        send(ex, 200, n);
    }

    private void chat(HttpExchange ex, JsonNode body, Admission.Ticket ticket) throws IOException, InterruptedException {
        RequestFields f = fields(body);
        int ctx = model.maxContext();
        int requested = f.has("max_completion_tokens") ? f.integer("max_completion_tokens", 1, ctx, -1) : f.integer("max_tokens", 1, ctx, -1);
        Generator.Params p = sampling(f, requested, -1, false);
        boolean stream = f.bool("stream", false);
        if (f.bool("logprobs", false) || f.has("top_logprobs")) {
            throw ApiError.badField("logprobs", "'logprobs' is not implemented for chat completions; use /v1/completions with logprobs");
        }
        String prompt = model.codec().renderChat(messages(body), true, Map.of());
        checkLength(prompt, Math.max(1, requested), "messages");
        ticket.awaitTurn();
        int[] ids = checkContext(model.codec().ids(prompt), Math.max(1, requested), "messages");
        Generator.Params params = requested > 0 ? p : new Generator.Params(Math.max(1, Math.min(512, ctx - ids.length)),
                p.temperature(), p.topP(), p.seed(), p.stop(), p.logprobs(), p.echo());
        String id = "chatcmpl-" + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        if (stream) {
            streamed(ex, sse -> {
                sse.send(chatChunk(id, created, JSON.createObjectNode().put("role", "assistant").put("content", ""), null));
                Generator.Output out = Generator.run(model, ids, params,
                        text -> sse.send(chatChunk(id, created, JSON.createObjectNode().put("content", text), null)), ticket::cancelled);
                sse.send(chatChunk(id, created, JSON.createObjectNode(), out.finishReason()));
            });
            return;
        }
        Generator.Output out = Generator.run(model, ids, params, t -> {}, ticket::cancelled);
        ObjectNode n = JSON.createObjectNode().put("id", id).put("object", "chat.completion").put("created", created).put("model", model.id());
        ObjectNode c = n.putArray("choices").addObject();
        c.put("index", 0).put("finish_reason", out.finishReason());
        c.putObject("message").put("role", "assistant").put("content", out.text());
        n.set("usage", usage(ids.length, out.generated().size()));
        send(ex, 200, n);
    }

    /**
     * Runs a streamed answer. Once the 200 header is out, a failure can only be told in the stream: an error event,
     * then {@code [DONE]} (a drain's cancellation is one such failure). A client that went away ends it silently.
     */
    private static void streamed(HttpExchange ex, Consumer<EventStream> body) throws IOException {
        try (EventStream sse = new EventStream(ex)) {
            try {
                body.accept(sse);
            } catch (Generator.Cancelled e) {
                sse.error(HttpGate.errorObject(new ApiError(503, e.getMessage())));
            } catch (java.io.UncheckedIOException e) {
                throw e;
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "internal error in a stream", e);
                sse.error(HttpGate.errorObject(new ApiError(500, "internal error: " + e)));
            }
        }
    }

    /**
     * The cheap check, before tokenizing: a text that needs more tokens than the context leaves after {@code maxTokens}
     * is refused from its length alone.
     */
    private void checkLength(String text, int maxTokens, String field) {
        long atLeast = model.tokensAtLeast(text);
        if (atLeast + maxTokens > model.maxContext()) {
            throw ApiError.badField(field, "'" + field + "' is " + text.length() + " characters long, at least " + atLeast
                    + " tokens: with max_tokens " + maxTokens + " that exceeds the context of " + model.maxContext() + " tokens");
        }
    }

    /** The exact check, after tokenizing; {@code maxTokens} ≤ the context, so the sum cannot overflow. */
    private int[] checkContext(int[] ids, int maxTokens, String field) {
        if (ids.length == 0) throw ApiError.badField(field, "'" + field + "' is empty (0 tokens)");
        if (ids.length + maxTokens > model.maxContext()) {
            throw ApiError.badField(field, "'" + field + "' (" + ids.length + " tokens) + max_tokens (" + maxTokens
                    + ") exceeds the context of " + model.maxContext() + " tokens");
        }
        return ids;
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

    /** A prompt as sent: text (tokenized only after the length check and in a turn) or token ids (checked here). */
    private record Prompt(String text, int[] ids) {}

    private List<Prompt> prompts(JsonNode prompt) {
        if (prompt == null || prompt.isNull()) throw ApiError.badField("prompt", "missing 'prompt'");
        List<Prompt> out = new ArrayList<>();
        if (prompt.isTextual()) out.add(new Prompt(prompt.textValue(), null));
        else if (prompt.isArray() && !prompt.isEmpty() && prompt.get(0).isNumber()) out.add(new Prompt(null, ids(prompt)));
        else if (prompt.isArray()) {
            for (JsonNode p : prompt) {
                if (p.isTextual()) out.add(new Prompt(p.textValue(), null));
                else if (p.isArray()) out.add(new Prompt(null, ids(p)));
                else throw ApiError.badField("prompt", "'prompt' entries must be strings or token-id lists, got " + RequestFields.shown(p));
            }
        } else throw ApiError.badField("prompt", "'prompt' must be a string, a list of strings, or token ids, got " + RequestFields.shown(prompt));
        if (out.isEmpty()) throw ApiError.badField("prompt", "'prompt' is an empty list");
        return out;
    }

    private int[] ids(JsonNode arr) {
        int[] ids = new int[arr.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = arr.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0 || id.intValue() >= model.vocabSize()) {
                throw ApiError.badField("prompt", "'prompt' token id " + RequestFields.shown(id) + " at position " + i
                        + " is not an id of the vocabulary [0, " + model.vocabSize() + ")");
            }
            ids[i] = id.intValue();
        }
        return ids;
    }

    private static List<ChatMessage> messages(JsonNode body) {
        JsonNode ms = body.get("messages");
        if (ms == null || !ms.isArray() || ms.isEmpty()) throw ApiError.badField("messages", "'messages' must be a non-empty list");
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) {
            JsonNode m = ms.get(i);
            if (!m.path("role").isTextual()) throw ApiError.badField("messages", "messages[" + i + "].role missing");
            if (m.path("content").isArray()) contentParts(m.path("content"), i); // refuses non-text parts with the field named
            ChatMessage c;
            try {
                c = ChatMessage.fromJson(m, "messages[" + i + "]");
            } catch (RoutecalException e) {
                throw ApiError.badField("messages", e.getMessage());
            }
            if (!c.knownRole()) {
                throw ApiError.badField("messages", "messages[" + i + "].role '" + c.role() + "' is not one of " + new java.util.TreeSet<>(ChatMessage.ROLES));
            }
            out.add(c);
        }
        return out;
    }

    /** OpenAI's list-of-parts content: the text parts joined. */
    private static String contentParts(JsonNode parts, int i) {
        if (!parts.isArray()) throw ApiError.badField("messages", "messages[" + i + "].content must be a string or a list of parts");
        StringBuilder sb = new StringBuilder();
        for (JsonNode p : parts) {
            // an image or audio part would be dropped without a word: refuse it instead
            if (!"text".equals(p.path("type").asText()) || !p.path("text").isTextual()) {
                throw ApiError.badField("messages", "messages[" + i + "].content: only {\"type\": \"text\", \"text\": …} parts are supported");
            }
            sb.append(p.get("text").textValue());
        }
        return sb.toString();
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
}
