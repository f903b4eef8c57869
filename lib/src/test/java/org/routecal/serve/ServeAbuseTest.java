package org.routecal.serve;

import org.routecal.tokenize.ByteCodec;
import org.routecal.tokenize.TextCodec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.routecal.demo.DemoAssets;
import org.routecal.model.MoeModel;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hostile requests against the real server over real HTTP (issue 12, item 5): each class gets the safe answer, a 4xx
 * that names the field, and costs little. The tiny fixture (byte tokenizer, context 256) serves the validation cases;
 * the demo model (a real BPE tokenizer, context 4096) the cases where tokenizing would be the expensive part.
 */
class ServeAbuseTest {
    static final Path FIXTURE = Path.of("../tests/fixtures/models/qwen3_moe/v1");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static Path demoDir;
    static MoeModel tiny, demo;
    static TextCodec demoCodec;
    static OpenAiServer server;

    @BeforeAll static void start() throws Exception {
        tiny = MoeModel.load(FIXTURE);
        server = TestServers.start(new ServedModel("tiny", tiny, new ByteCodec()), 2, 4);
        demoDir = Files.createTempDirectory("serve-abuse-demo");
        DemoAssets.writeTo(demoDir);
        demo = MoeModel.load(demoDir.resolve("model"));
        demoCodec = TextCodec.load(demoDir.resolve("model"), "auto");
    }

    @AfterAll static void stop() throws Exception {
        server.close();
        tiny.close();
        demo.close();
        demoCodec.close();
        try (var files = Files.walk(demoDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static HttpResponse<String> post(OpenAiServer s, String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The error object of a refused request, after checking its status. */
    static JsonNode refused(HttpResponse<String> r, int status) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertFalse(error.path("message").asText().isEmpty(), r.body());
        return error;
    }

    /** Each wrong value is a 400 whose message and {@code param} name the field; nothing is coerced. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/v1/completions      | {\"prompt\":\"a\",\"max_tokens\":2147483647}  | max_tokens",
            "/v1/completions      | {\"prompt\":\"a\",\"max_tokens\":-1}          | max_tokens",
            "/v1/completions      | {\"prompt\":\"a\",\"max_tokens\":4294967300}  | max_tokens",
            "/v1/completions      | {\"prompt\":\"a\",\"max_tokens\":\"ten\"}     | max_tokens",
            "/v1/completions      | {\"prompt\":\"a\",\"max_tokens\":1.5}         | max_tokens",
            "/v1/completions      | {\"prompt\":\"a\",\"stop\":\"\"}              | stop",
            "/v1/completions      | {\"prompt\":\"a\",\"stop\":[\"x\",\"\"]}      | stop",
            "/v1/completions      | {\"prompt\":\"a\",\"stop\":5}                 | stop",
            "/v1/completions      | {\"prompt\":\"a\",\"temperature\":\"hot\"}    | temperature",
            "/v1/completions      | {\"prompt\":\"a\",\"temperature\":-0.5}       | temperature",
            "/v1/completions      | {\"prompt\":\"a\",\"temperature\":3}          | temperature",
            "/v1/completions      | {\"prompt\":\"a\",\"top_p\":0}                | top_p",
            "/v1/completions      | {\"prompt\":\"a\",\"top_p\":1.5}              | top_p",
            "/v1/completions      | {\"prompt\":\"a\",\"n\":2}                    | n",
            "/v1/completions      | {\"prompt\":\"a\",\"n\":\"one\"}              | n",
            "/v1/completions      | {\"prompt\":\"a\",\"logprobs\":\"5\"}         | logprobs",
            "/v1/completions      | {\"prompt\":\"a\",\"logprobs\":21}            | logprobs",
            "/v1/completions      | {\"prompt\":\"a\",\"echo\":\"yes\"}           | echo",
            "/v1/completions      | {\"prompt\":\"a\",\"stream\":\"true\"}        | stream",
            "/v1/completions      | {\"prompt\":\"a\",\"seed\":\"abc\"}           | seed",
            "/v1/completions      | {\"prompt\":\"a\",\"presence_penalty\":0.5}   | presence_penalty",
            "/v1/completions      | {\"prompt\":5}                                | prompt",
            "/v1/completions      | {\"prompt\":[1,2,999]}                        | prompt",
            "/v1/chat/completions | {\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":0}         | max_tokens",
            "/v1/chat/completions | {\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":-5} | max_completion_tokens",
            "/v1/chat/completions | {\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":\"x\"}   | temperature",
            "/v1/chat/completions | {\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":\"\"}          | stop",
            "/v1/chat/completions | {\"messages\":[{\"role\":\"user\",\"content\":5}]}                               | messages",
    })
    void wrongValuesAreRefusedByName(String path, String body, String field) throws Exception {
        JsonNode error = refused(post(server, path, body), 400);
        assertTrue(error.path("message").asText().contains(field), error.toString());
        assertEquals(field, error.path("param").asText(), error.toString());
    }

    /** A body that is not exactly one JSON object: trailing data and repeated keys are not guessed at. */
    @Test void ambiguousJsonIsRefused() throws Exception {
        refused(post(server, "/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1} {\"max_tokens\":500}"), 400);
        JsonNode dup = refused(post(server, "/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1,\"max_tokens\":500}"), 400);
        assertTrue(dup.path("message").asText().contains("max_tokens"), dup.toString());
    }

    @Test void unknownModelIs404() throws Exception {
        JsonNode e = refused(post(server, "/v1/completions", "{\"model\":\"gpt-4\",\"prompt\":\"a\",\"max_tokens\":1}"), 404);
        assertTrue(e.path("message").asText().contains("gpt-4") && e.path("message").asText().contains("tiny"), e.toString());
        refused(post(server, "/v1/chat/completions", "{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), 404);
        // the served name, and no name at all, are accepted
        assertEquals(200, post(server, "/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"a\",\"max_tokens\":1}").statusCode());
        assertEquals(200, post(server, "/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":1}").statusCode());
    }

    /**
     * Sends a raw HTTP/1.1 request and returns the status line and body of the answer. The body is written by another
     * thread, so an answer that comes before the body is complete (as 413 does) is still read.
     */
    static String[] raw(OpenAiServer s, String headers, byte[] body, int repeat, byte[] tail) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", s.port())) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write((headers + "\r\n").getBytes(StandardCharsets.US_ASCII));
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < repeat; i++) out.write(body);
                    out.write(tail);
                    out.flush();
                } catch (Exception refusedMidway) {
                    // the server answered and closed before taking all of it: expected for a refused body
                }
            });
            // read the answer by its Content-Length: the server may keep the connection open to drain what we send
            java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) head.append((char) in.readUnsignedByte());
            java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
            assertTrue(length.find(), head.toString());
            byte[] answer = new byte[Integer.parseInt(length.group(1))];
            in.readFully(answer);
            socket.shutdownOutput();
            writer.get(20, TimeUnit.SECONDS);
            return new String[]{head.substring(0, head.indexOf("\r\n")), new String(answer, StandardCharsets.UTF_8)};
        }
    }

    /** A declared 1.2 GB body is refused from its header, without waiting for (or buffering) the bytes. */
    @Test void hugeDeclaredBodyIsRefusedBeforeReading() throws Exception {
        long t0 = System.nanoTime();
        String[] r = raw(server, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1200000000\r\nConnection: close\r\n", "{\"prompt\":".getBytes(StandardCharsets.US_ASCII), 1, new byte[0]);
        assertEquals("HTTP/1.1 413 Request Entity Too Large", r[0], r[1]);
        assertTrue(JSON.readTree(r[1]).path("error").path("message").asText().contains("8 MiB"), r[1]);
        assertTrue((System.nanoTime() - t0) / 1e9 < 10, "answered without waiting for the body");
    }

    /**
     * A chunked body has no length to check up front: it is read up to the cap, then refused. (8 MiB + 8 KiB: a little
     * over, so that the server's drain of the rest takes it all and the answer is not lost to a connection reset.)
     */
    @Test void chunkedBodyOverTheCapIs413() throws Exception {
        byte[] chunk = ("100000\r\n" + "a".repeat(0x100000) + "\r\n").getBytes(StandardCharsets.US_ASCII); // 1 MiB chunks
        byte[] tail = ("2000\r\n" + "a".repeat(0x2000) + "\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        String[] r = raw(server, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close\r\n", chunk, 8, tail);
        assertEquals("HTTP/1.1 413 Request Entity Too Large", r[0], r[1]);
    }

    /** The cap is the server's option, and a body under it is served. */
    @Test void bodyCapIsConfigurable() throws Exception {
        try (OpenAiServer s = OpenAiServer.start(new ServedModel("tiny", tiny, new ByteCodec()),
                OpenAiServer.Options.loopback().withMaxBodyBytes(4096))) {
            refused(post(s, "/v1/completions", "{\"prompt\":\"" + "a".repeat(5000) + "\",\"max_tokens\":1}"), 413);
            assertEquals(200, post(s, "/v1/completions", "{\"prompt\":\"" + "a".repeat(100) + "\",\"max_tokens\":1}").statusCode());
        }
    }

    /**
     * A 7 MB prompt on a real BPE tokenizer (context 4096) is refused from its length alone: tokenizing it took ~20 s
     * on this machine before. The answer names the prompt and comes within seconds.
     */
    @Test void overlongPromptIsRefusedWithoutTokenizing() throws Exception {
        try (OpenAiServer s = TestServers.start(new ServedModel("demo", demo, demoCodec), 1, 2)) {
            String prompt = "the cat sat on a mat. ".repeat(330_000); // 7.3 M characters
            long t0 = System.nanoTime();
            JsonNode e = refused(post(s, "/v1/completions", "{\"prompt\":\"" + prompt + "\",\"max_tokens\":1}"), 400);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals("prompt", e.path("param").asText(), e.toString());
            assertTrue(seconds < 5, "refusal took " + seconds + " s");
            JsonNode chat = refused(post(s, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}"), 400);
            assertEquals("messages", chat.path("param").asText(), chat.toString());
            // the exact check after tokenizing still holds for prompts under the bound
            JsonNode exact = refused(post(s, "/v1/completions", "{\"prompt\":\"" + "the cat sat. ".repeat(2000) + "\",\"max_tokens\":1}"), 400);
            assertTrue(exact.path("message").asText().contains("4096"), exact.toString());
        }
    }

    /**
     * Admission comes first: with the one slot busy and no queue, a heavy request is turned away with 429 at once,
     * before its body is read or tokenized.
     */
    @Test void busyServerRefusesBeforeHeavyWork() throws Exception {
        try (OpenAiServer s = TestServers.start(new ServedModel("demo", demo, demoCodec), 1, 0)) {
            HttpRequest longStream = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"a\",\"max_tokens\":4000,\"temperature\":0,\"stream\":true}")).build();
            HttpResponse<java.util.stream.Stream<String>> busy = HTTP.send(longStream, HttpResponse.BodyHandlers.ofLines());
            var lines = busy.body().iterator();
            assertTrue(lines.next().startsWith("data: "), "the first chunk arrived: the slot is taken");
            String prompt = "the cat sat on a mat. ".repeat(330_000);
            long t0 = System.nanoTime();
            HttpResponse<String> r = post(s, "/v1/completions", "{\"prompt\":\"" + prompt + "\",\"max_tokens\":1}");
            double seconds = (System.nanoTime() - t0) / 1e9;
            refused(r, 429);
            assertTrue(seconds < 5, "429 took " + seconds + " s");
            CompletableFuture.runAsync(() -> lines.forEachRemaining(l -> { })).get(120, TimeUnit.SECONDS);
        }
    }
}
