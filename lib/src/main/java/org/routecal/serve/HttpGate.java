package org.routecal.serve;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import org.routecal.RoutecalException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What every request passes before an endpoint sees it, cheapest check first: the exact path (404), the drain (503),
 * the API key (401), the method (405), the declared body size (413). Endpoints then read their body through
 * {@link #body}, which stops at the cap, and parse it strictly. Failures become OpenAI error objects
 * {@code {"error": {message, type, param, code}}}.
 */
final class HttpGate {
    /** One JSON object per body: trailing data and repeated keys are errors, not "last one wins". */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final Logger LOG = Logger.getLogger(HttpGate.class.getName());

    private final long maxBodyBytes;
    /** SHA-256 of the API key, or null when none is required. Digests compare in constant time and hide the length. */
    private final byte[] apiKeyDigest;
    private final Admission admission;

    HttpGate(long maxBodyBytes, String apiKey, Admission admission) {
        this.maxBodyBytes = maxBodyBytes;
        this.apiKeyDigest = apiKey == null ? null : sha256(apiKey);
        this.admission = admission;
    }

    interface Endpoint { void handle(HttpExchange ex) throws IOException, InterruptedException; }

    /** An endpoint behind the API key. */
    HttpHandler guarded(String method, Endpoint endpoint) { return handler(method, true, endpoint); }

    /** An endpoint open without the key ({@code /health}, for load balancers and start-up scripts). */
    HttpHandler open(String method, Endpoint endpoint) { return handler(method, false, endpoint); }

    private HttpHandler handler(String method, boolean needsKey, Endpoint endpoint) {
        return ex -> {
            try {
                String path = ex.getRequestURI().getPath();
                // contexts match by prefix: /v1/completions would also take /v1/completionsX
                if (!path.equals(ex.getHttpContext().getPath())) throw new ApiError(404, "no endpoint " + path);
                if (admission.draining()) {
                    ex.getResponseHeaders().set("Connection", "close");
                    throw new ApiError(503, "server shutting down; retry on another server or later");
                }
                if (needsKey) authorize(ex);
                if (!method.equals(ex.getRequestMethod())) throw new ApiError(405, "use " + method + " for " + path);
                checkDeclaredLength(ex);
                endpoint.handle(ex);
            } catch (ApiError e) {
                if (e.status != 413) discardRest(ex);
                // a 503 because the server began draining after the check above (a waiting ticket, admission) closes too
                if (e.status == 503 && admission.draining()) ex.getResponseHeaders().set("Connection", "close");
                sendError(ex, e);
            } catch (Generator.Cancelled e) {
                if (admission.draining()) ex.getResponseHeaders().set("Connection", "close");
                sendError(ex, new ApiError(503, e.getMessage()));
            } catch (RoutecalException e) {
                sendError(ex, new ApiError(400, e.getMessage()));
            } catch (IOException | UncheckedIOException e) {
                // the client went away mid-request or mid-response: nothing more to send
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                sendError(ex, new ApiError(503, "server shutting down"));
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "internal error answering " + ex.getRequestURI(), e);
                sendError(ex, new ApiError(500, "internal error: " + e));
            } finally {
                ex.close();
            }
        };
    }

    private void authorize(HttpExchange ex) {
        if (apiKeyDigest == null) return;
        String header = ex.getRequestHeaders().getFirst("Authorization");
        String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
        if (!MessageDigest.isEqual(sha256(given), apiKeyDigest)) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            throw new ApiError(401, "missing or wrong API key: send the header 'Authorization: Bearer <key>'");
        }
    }

    /** 413 from the Content-Length header alone, before a byte of the body is read. */
    private void checkDeclaredLength(HttpExchange ex) {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared == null) return;
        try {
            if (Long.parseLong(declared.trim()) > maxBodyBytes) throw tooLarge();
        } catch (NumberFormatException e) {
            throw new ApiError(400, "Content-Length is not a number: " + declared);
        }
    }

    private ApiError tooLarge() {
        return new ApiError(413, "request body over the server's limit of " + sizeText(maxBodyBytes) + " (serve --max-body-mb)");
    }

    /** The request body as one JSON object, read up to the cap (a chunked body has no length to check up front). */
    JsonNode body(HttpExchange ex) throws IOException {
        byte[] b = ex.getRequestBody().readNBytes((int) maxBodyBytes + 1);
        if (b.length > maxBodyBytes) throw tooLarge();
        try {
            JsonNode n = JSON.readTree(b);
            if (n == null || !n.isObject()) throw new ApiError(400, "request body must be a JSON object");
            return n;
        } catch (JsonProcessingException e) {
            throw new ApiError(400, "request body is not one valid JSON object: " + e.getOriginalMessage());
        }
    }

    /**
     * Reads and drops what is left of a refused body (up to the cap; a larger one was refused from its header), so the
     * refusal reaches a client that is still sending: closing a socket with unread data resets the connection, and
     * the client loses the answer. Costs reading, not memory.
     */
    private void discardRest(HttpExchange ex) {
        byte[] sink = new byte[64 << 10];
        long left = maxBodyBytes;
        try {
            InputStream in = ex.getRequestBody();
            for (int n; left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) >= 0; ) left -= n;
        } catch (IOException e) {
            // the client is gone: no answer to deliver
        }
    }

    static void send(HttpExchange ex, int status, JsonNode n) throws IOException {
        byte[] b = JSON.writeValueAsBytes(n);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    /** {@code {"error": {message, type, param, code}}}: OpenAI's shape, which clients parse. */
    static ObjectNode errorObject(ApiError e) {
        ObjectNode n = JSON.createObjectNode();
        ObjectNode err = n.putObject("error").put("message", e.getMessage()).put("type", e.type());
        if (e.param == null) err.putNull("param"); else err.put("param", e.param);
        err.put("code", e.status);
        return n;
    }

    private static void sendError(HttpExchange ex, ApiError e) {
        try {
            send(ex, e.status, errorObject(e));
        } catch (IOException | IllegalStateException ignored) {
            // headers already sent (mid-stream) or the client is gone: the connection closes
        }
    }

    static String sizeText(long bytes) {
        return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
