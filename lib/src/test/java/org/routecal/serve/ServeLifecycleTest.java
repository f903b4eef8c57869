package org.routecal.serve;

import org.routecal.tokenize.ByteCodec;
import org.routecal.tokenize.TextCodec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.model.MoeModel;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The server's edges over real HTTP: the API key, and the graceful drain (in-process, and through {@code routecal
 * serve} in a child JVM that gets a real SIGTERM).
 */
class ServeLifecycleTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** Long enough (seconds) to still be running while the test drains; short enough for a test. */
    static final String LONG_STREAM = "{\"prompt\":\"a\",\"max_tokens\":3000,\"temperature\":0,\"stream\":true}";
    @TempDir static Path dir;
    static Path longContext;
    static MoeModel model;

    @BeforeAll static void load() throws Exception {
        longContext = TestServers.tinyWithLongContext(dir);
        model = MoeModel.load(longContext);
    }

    @AfterAll static void close() throws Exception { model.close(); }

    static HttpRequest.Builder request(String base, String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
    }

    static HttpResponse<String> post(String base, String path, String body) throws Exception {
        return HTTP.send(request(base, path).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String base, String path) throws Exception {
        return HTTP.send(request(base, path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Starts a long stream and returns its event lines once the first has arrived (the request is running). */
    static Iterator<String> runningStream(String base) throws Exception {
        HttpResponse<Stream<String>> r = HTTP.send(request(base, "/v1/completions").POST(HttpRequest.BodyPublishers.ofString(LONG_STREAM)).build(),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        Iterator<String> lines = r.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).iterator();
        assertTrue(lines.hasNext(), "a first event");
        return lines;
    }

    static List<String> rest(Iterator<String> events) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            List<String> out = new ArrayList<>();
            events.forEachRemaining(out::add);
            return out;
        }).get(120, TimeUnit.SECONDS);
    }

    static String base(OpenAiServer s) { return "http://127.0.0.1:" + s.port(); }

    @Test void apiKeyIsRequiredWhenSet() throws Exception {
        try (OpenAiServer s = OpenAiServer.start(new ServedModel("tiny", model, new ByteCodec()),
                OpenAiServer.Options.loopback().withApiKey("s3cret-key"))) {
            String body = "{\"prompt\":\"a\",\"max_tokens\":1}";
            HttpResponse<String> none = post(base(s), "/v1/completions", body);
            assertEquals(401, none.statusCode(), none.body());
            assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(""));
            assertEquals("authentication_error", JSON.readTree(none.body()).path("error").path("type").asText());
            for (String wrong : List.of("Bearer s3cret-kex", "Bearer s3cret-key2", "Bearer ", "Basic s3cret-key", "s3cret-key")) {
                HttpResponse<String> r = HTTP.send(request(base(s), "/v1/completions").header("Authorization", wrong)
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(401, r.statusCode(), wrong);
            }
            assertEquals(401, get(base(s), "/v1/models").statusCode());
            HttpResponse<String> ok = HTTP.send(request(base(s), "/v1/completions").header("Authorization", "Bearer s3cret-key")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals(200, get(base(s), "/health").statusCode(), "health stays open for probes");
            assertFalse(s.toString().contains("s3cret") || OpenAiServer.Options.loopback().withApiKey("s3cret-key").toString().contains("s3cret"));
        }
    }

    /** Draining: the running stream finishes normally, waiting and new requests get 503, then the port closes. */
    @Test void drainFinishesRunningWorkAndRefusesNew() throws Exception {
        OpenAiServer s = TestServers.start(new ServedModel("tiny", model, new ByteCodec()), 1, 2);
        String base = base(s);
        Iterator<String> running = runningStream(base);
        CompletableFuture<HttpResponse<String>> queued = HTTP.sendAsync(request(base, "/v1/completions")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"b\",\"max_tokens\":5}")).build(), HttpResponse.BodyHandlers.ofString());
        CompletableFuture<Integer> drain = CompletableFuture.supplyAsync(() -> s.drain(Duration.ofSeconds(60)));
        HttpResponse<String> late = null;
        for (int i = 0; i < 100 && (late == null || late.statusCode() != 503); i++) {
            late = post(base, "/v1/completions", "{\"prompt\":\"c\",\"max_tokens\":5}"); // until the drain has begun
        }
        assertEquals(503, late.statusCode(), late.body());
        assertEquals("close", late.headers().firstValue("Connection").orElse(""));
        assertEquals(503, get(base, "/health").statusCode());
        assertEquals(503, queued.get(60, TimeUnit.SECONDS).statusCode(), "a request still waiting for its turn leaves at once");
        List<String> events = rest(running);
        assertEquals("[DONE]", events.get(events.size() - 1));
        assertEquals("length", JSON.readTree(events.get(events.size() - 2)).path("choices").get(0).path("finish_reason").asText(),
                "the running request ran to its max_tokens");
        assertEquals(0, drain.get(60, TimeUnit.SECONDS), "nothing cancelled");
        assertThrows(ConnectException.class, () -> get(base, "/health"));
    }

    /** Past the drain's deadline a stream ends with an error event and [DONE]; a plain request gets a 503. */
    @Test void drainDeadlineCancelsWithAnAnswer() throws Exception {
        OpenAiServer s = TestServers.start(new ServedModel("tiny", model, new ByteCodec()), 2, 0);
        String base = base(s);
        Iterator<String> stream = runningStream(base);
        CompletableFuture<HttpResponse<String>> plain = HTTP.sendAsync(request(base, "/v1/completions")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"b\",\"max_tokens\":3000}")).build(), HttpResponse.BodyHandlers.ofString());
        Thread.sleep(500); // the plain request is generating (it takes seconds)
        assertEquals(2, s.drain(Duration.ofMillis(200)));
        List<String> events = rest(stream);
        assertEquals("[DONE]", events.get(events.size() - 1));
        JsonNode error = JSON.readTree(events.get(events.size() - 2)).path("error");
        assertEquals(503, error.path("code").asInt(), events.get(events.size() - 2));
        assertTrue(error.path("message").asText().contains("shutting down"));
        HttpResponse<String> r = plain.get(60, TimeUnit.SECONDS);
        assertEquals(503, r.statusCode(), r.body());
    }

    private static final Pattern URL = Pattern.compile("(http://127\\.0\\.0\\.1:\\d+)/v1");

    /** {@code routecal serve} in a child JVM, stopped by a real SIGTERM while a stream runs. */
    @Test void sigtermDrainsTheCliServer() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = dir.resolve("serve.log"); // a file, not a pipe: the JDK may close a dead child's pipe under its reader
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                "org.routecal.cli.Main", "serve", "--model", longContext.toString(), "--tokenizer", "byte", "--port", "0",
                "--served-model-name", "tiny", "--drain-seconds", "60").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            String base = null;
            for (long end = System.nanoTime() + 60_000_000_000L; base == null && p.isAlive() && System.nanoTime() < end; Thread.sleep(100)) {
                Matcher m = URL.matcher(Files.readString(log));
                if (m.find()) base = m.group(1);
            }
            assertNotNull(base, "serve did not report its URL: " + Files.readString(log));
            Iterator<String> running = runningStream(base);
            p.destroy(); // SIGTERM
            HttpResponse<String> late = null;
            for (int i = 0; i < 200 && (late == null || late.statusCode() != 503); i++) {
                late = post(base, "/v1/completions", "{\"prompt\":\"c\",\"max_tokens\":5}");
            }
            assertEquals(503, late.statusCode(), "new requests during the drain: " + late.body());
            List<String> events = rest(running);
            assertEquals("[DONE]", events.get(events.size() - 1));
            assertEquals("length", JSON.readTree(events.get(events.size() - 2)).path("choices").get(0).path("finish_reason").asText());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the server exits after draining");
            String text = Files.readString(log);
            assertTrue(text.contains("draining") && text.contains("stopped"), text);
        } finally {
            p.destroyForcibly();
        }
    }
}
