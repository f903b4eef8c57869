package org.routecal.synth.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1 (JDK HttpServer) that answers {@code POST /v1/chat/completions}
 * with scripted faults: each request takes the next {@link Fault} from the script (then {@link Fault#OK} forever).
 * The answer text is produced by {@code answer(requestBody)}. It records every request's body and Authorization
 * header, and the peak number of requests in flight.
 */
public final class FaultyOpenAiServer implements AutoCloseable {
    public enum Fault { OK, HTTP_500, HTTP_503, HTTP_429, HTTP_400, SLOW, MALFORMED, NO_CHOICES, EMPTY }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final Deque<Fault> script = new ArrayDeque<>();
    private final List<JsonNode> bodies = Collections.synchronizedList(new ArrayList<>());
    private final List<String> authHeaders = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger inFlight = new AtomicInteger(), peak = new AtomicInteger();
    private volatile long slowMillis = 2000, okDelayMillis = 0;
    private volatile Function<JsonNode, String> answer = body -> "answer " + bodies.size();

    public FaultyOpenAiServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "faulty-openai");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/v1/chat/completions", this::handle);
        server.start();
    }

    public String baseUrl() { return "http://127.0.0.1:" + server.getAddress().getPort(); }
    public synchronized FaultyOpenAiServer script(Fault... faults) { Collections.addAll(script, faults); return this; }
    public FaultyOpenAiServer slowMillis(long ms) { slowMillis = ms; return this; }
    public FaultyOpenAiServer okDelayMillis(long ms) { okDelayMillis = ms; return this; }
    public FaultyOpenAiServer answer(Function<JsonNode, String> f) { answer = f; return this; }
    public List<JsonNode> bodies() { return bodies; }
    public List<String> authHeaders() { return authHeaders; }
    public int peakInFlight() { return peak.get(); }

    private synchronized Fault next() { return script.isEmpty() ? Fault.OK : script.poll(); }

    private void handle(HttpExchange ex) throws IOException {
        int now = inFlight.incrementAndGet();
        peak.accumulateAndGet(now, Math::max);
        try {
            JsonNode body = JSON.readTree(ex.getRequestBody().readAllBytes());
            bodies.add(body);
            authHeaders.add(ex.getRequestHeaders().getFirst("Authorization"));
            Fault f = next();
            switch (f) {
                case HTTP_500 -> send(ex, 500, "{\"error\":{\"message\":\"boom\"}}");
                case HTTP_503 -> send(ex, 503, "{\"error\":{\"message\":\"unavailable\"}}");
                case HTTP_429 -> send(ex, 429, "{\"error\":{\"message\":\"slow down\"}}");
                case HTTP_400 -> send(ex, 400, "{\"error\":{\"message\":\"bad request\"}}");
                case MALFORMED -> send(ex, 200, "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"tru");
                case NO_CHOICES -> send(ex, 200, "{\"id\":\"x\",\"object\":\"chat.completion\"}");
                case SLOW -> {
                    sleep(slowMillis);
                    send(ex, 200, completion(answer.apply(body)));
                }
                case EMPTY -> send(ex, 200, completion(""));
                case OK -> {
                    sleep(okDelayMillis);
                    send(ex, 200, completion(answer.apply(body)));
                }
            }
        } catch (IOException e) {
            // the client went away (e.g. it timed out): nothing to answer
        } finally {
            inFlight.decrementAndGet();
            ex.close();
        }
    }

    private static String completion(String content) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", "chatcmpl-test").put("object", "chat.completion").put("created", 0).put("model", "faulty");
        ObjectNode c = n.putArray("choices").addObject();
        c.put("index", 0).put("finish_reason", "stop");
        c.putObject("message").put("role", "assistant").put("content", content);
        n.putObject("usage").put("prompt_tokens", 10).put("completion_tokens", 5).put("total_tokens", 15);
        return n.toString();
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override public void close() { server.stop(0); }
}
