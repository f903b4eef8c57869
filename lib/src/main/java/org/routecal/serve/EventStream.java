package org.routecal.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events as OpenAI streams them: {@code data: <json>\n\n} per chunk, flushed, and always ending with
 * {@code data: [DONE]}. A stream that fails after its 200 header can no longer change status, so it ends with an
 * error event ({@code data: {"error": {…}}}, as vLLM sends it) before {@code [DONE]}.
 */
final class EventStream implements AutoCloseable {
    private final OutputStream os;
    private boolean ended;

    EventStream(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        os = ex.getResponseBody();
    }

    void send(JsonNode n) {
        write("data: " + n + "\n\n");
    }

    /** An error event; the stream then ends with [DONE]. */
    void error(ObjectNode errorObject) {
        send(errorObject);
        close();
    }

    /** Ends the stream with {@code [DONE]} (once) and closes the body, so the client sees the end at once. */
    @Override public void close() {
        if (ended) return;
        ended = true;
        write("data: [DONE]\n\n");
        try {
            os.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A failed write means the client went away; the exception stops the generation feeding this stream. */
    private void write(String s) {
        try {
            os.write(s.getBytes(StandardCharsets.UTF_8));
            os.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
