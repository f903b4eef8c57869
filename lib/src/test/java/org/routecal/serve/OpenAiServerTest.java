package org.routecal.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.MoeModel;
import org.routecal.tokenize.ByteCodec;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/** Our OpenAI-compatible server over real HTTP, serving the tiny Qwen3-MoE fixture (vocab 256, byte tokenizer). */
class OpenAiServerTest {
    static final Path FIXTURE = Path.of("../tests/fixtures/models/qwen3_moe/v1");
    static final ObjectMapper JSON = new ObjectMapper();
    static MoeModel moe;
    static OpenAiServer server;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll static void start() {
        moe = MoeModel.load(FIXTURE);
        server = TestServers.start(new ServedModel("tiny", moe, new ByteCodec()), 2, 4);
    }

    @AfterAll static void stop() throws Exception {
        server.close();
        moe.close();
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode postOk(String path, ObjectNode body) throws Exception {
        HttpResponse<String> r = post(path, body.toString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    @Test void modelsEndpoint() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/models")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("tiny", JSON.readTree(r.body()).path("data").get(0).path("id").asText());
    }

    /** lm-eval's loglikelihood request (token-id prompts, echo, logprobs=1, max_tokens=1) against HF's logits. */
    @Test void echoLogprobsMatchTransformersLogits() throws Exception {
        int[][] seqs;
        float[][] ref = new float[2][];
        try (SafetensorsCheckpoint expected = SafetensorsCheckpoint.open(FIXTURE.resolve("reference.safetensors"))) {
            JsonNode meta = JSON.readTree(FIXTURE.resolve("reference.json").toFile());
            seqs = new int[][]{JSON.convertValue(meta.path("sequences").get(0), int[].class), JSON.convertValue(meta.path("sequences").get(2), int[].class)};
            ref[0] = expected.readFloat("seq0.logits");
            ref[1] = expected.readFloat("seq2.logits");
        }
        ObjectNode body = JSON.createObjectNode().put("model", "tiny").put("temperature", 0).put("max_tokens", 1)
                .put("logprobs", 1).put("echo", true).put("seed", 1234);
        ArrayNode prompts = body.putArray("prompt");
        for (int[] s : seqs) { ArrayNode a = prompts.addArray(); for (int id : s) a.add(id); }
        JsonNode out = postOk("/v1/completions", body);
        int vocab = 256;
        for (int c = 0; c < 2; c++) {
            JsonNode lp = out.path("choices").get(c).path("logprobs");
            assertEquals(c, out.path("choices").get(c).path("index").asInt());
            assertEquals(seqs[c].length + 1, lp.path("token_logprobs").size());
            assertTrue(lp.path("token_logprobs").get(0).isNull());
            for (int i = 1; i < seqs[c].length; i++) {
                double want = Sampler.logSoftmax(ref[c], i - 1, vocab)[seqs[c][i]];
                assertEquals(want, lp.path("token_logprobs").get(i).asDouble(), 2e-3, "choice " + c + " pos " + i);
                // top_logprobs holds the best alternative: never below the chosen token's logprob
                double best = lp.path("top_logprobs").get(i).elements().next().asDouble();
                assertTrue(best >= lp.path("token_logprobs").get(i).asDouble() - 1e-12);
            }
            // the generated token is the greedy one after the whole prompt (HF argmax of the last row)
            int last = seqs[c].length - 1;
            double greedyLp = lp.path("token_logprobs").get(seqs[c].length).asDouble();
            assertEquals(Sampler.logSoftmax(ref[c], last, vocab)[Sampler.argmax(ref[c], last * vocab, vocab)], greedyLp, 2e-3);
            // text_offset is cumulative over the token texts
            int off = 0;
            for (int i = 0; i < lp.path("tokens").size(); i++) {
                assertEquals(off, lp.path("text_offset").get(i).asInt());
                off += lp.path("tokens").get(i).asText().length();
            }
        }
        assertEquals(seqs[0].length + seqs[1].length, out.path("usage").path("prompt_tokens").asInt());
    }

    /** Greedy generation through the KV cache equals a full re-prefill of prompt + generated tokens. */
    @Test void greedyKvCacheGenerationMatchesFullPrefill() throws Exception {
        int[] prompt = new ByteCodec().ids("hello moe");
        ObjectNode g = JSON.createObjectNode().put("max_tokens", 12).put("temperature", 0).put("logprobs", 1)
                .put("return_tokens_as_token_ids", true);
        ArrayNode p = g.putArray("prompt");
        for (int id : prompt) p.add(id);
        JsonNode gen = postOk("/v1/completions", g).path("choices").get(0);
        assertEquals("length", gen.path("finish_reason").asText());
        JsonNode lp = gen.path("logprobs");
        assertEquals(12, lp.path("tokens").size());
        ObjectNode e = JSON.createObjectNode().put("max_tokens", 0).put("echo", true).put("logprobs", 1).put("temperature", 0)
                .put("return_tokens_as_token_ids", true);
        ArrayNode all = e.putArray("prompt");
        for (int id : prompt) all.add(id);
        for (JsonNode t : lp.path("tokens")) all.add(Integer.parseInt(t.asText().substring("token_id:".length())));
        JsonNode echoed = postOk("/v1/completions", e).path("choices").get(0).path("logprobs");
        assertEquals(prompt.length + 12, echoed.path("tokens").size());
        for (int i = 0; i < 12; i++) {
            double kv = lp.path("token_logprobs").get(i).asDouble();
            assertEquals(kv, echoed.path("token_logprobs").get(prompt.length + i).asDouble(), 1e-4, "step " + i);
            // greedy: the chosen token is the top-1 alternative
            JsonNode top = lp.path("top_logprobs").get(i);
            assertEquals(lp.path("tokens").get(i).asText(), top.fieldNames().next());
            assertEquals(kv, top.elements().next().asDouble(), 1e-12);
        }
    }

    @Test void streamingChatEqualsNonStreaming() throws Exception {
        ObjectNode body = JSON.createObjectNode().put("model", "tiny").put("max_tokens", 10).put("temperature", 0);
        body.putArray("messages").addObject().put("role", "user").put("content", "Hi there");
        JsonNode whole = postOk("/v1/chat/completions", body);
        String expected = whole.path("choices").get(0).path("message").path("content").asText();
        assertEquals(10, whole.path("usage").path("completion_tokens").asInt());
        body.put("stream", true);
        HttpResponse<String> r = post("/v1/chat/completions", body.toString());
        assertEquals("text/event-stream", r.headers().firstValue("Content-Type").orElse(""));
        StringBuilder streamed = new StringBuilder();
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", events.get(events.size() - 1));
        for (String ev : events.subList(0, events.size() - 1)) {
            JsonNode d = JSON.readTree(ev).path("choices").get(0).path("delta");
            streamed.append(d.path("content").asText(""));
        }
        assertEquals(expected, streamed.toString());
        assertEquals("length", JSON.readTree(events.get(events.size() - 2)).path("choices").get(0).path("finish_reason").asText());
    }

    @Test void seededSamplingIsReproducibleAndStopStringsCut() throws Exception {
        ObjectNode body = JSON.createObjectNode().put("prompt", "abc").put("max_tokens", 20).put("temperature", 1.5).put("top_p", 0.9).put("seed", 5);
        String a = postOk("/v1/completions", body).path("choices").get(0).path("text").asText();
        String b = postOk("/v1/completions", body).path("choices").get(0).path("text").asText();
        assertEquals(a, b);
        boolean differs = false;
        for (int seed = 6; seed < 12 && !differs; seed++) {
            body.put("seed", seed);
            differs = !postOk("/v1/completions", body).path("choices").get(0).path("text").asText().equals(a);
        }
        assertTrue(differs, "other seeds give other samples");
        // a stop string taken from the greedy output cuts it there
        ObjectNode greedy = JSON.createObjectNode().put("prompt", "abc").put("max_tokens", 20).put("temperature", 0);
        String full = postOk("/v1/completions", greedy).path("choices").get(0).path("text").asText();
        String stop = full.substring(5, 7);
        greedy.put("stop", stop);
        JsonNode cut = postOk("/v1/completions", greedy).path("choices").get(0);
        assertEquals(full.substring(0, full.indexOf(stop)), cut.path("text").asText());
        assertEquals("stop", cut.path("finish_reason").asText());
    }

    @Test void tokenizeAndErrors() throws Exception {
        JsonNode t = postOk("/tokenize", JSON.createObjectNode().put("prompt", "héllo"));
        assertEquals(6, t.path("count").asInt());
        assertEquals(256, t.path("max_model_len").asInt());
        assertEquals(400, post("/v1/completions", "{not json").statusCode());
        assertEquals(400, post("/v1/completions", "{\"prompt\":[1,2,999]}").statusCode());
        assertEquals(400, post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1000}").statusCode());
        HttpResponse<String> r = post("/v1/chat/completions", "{\"messages\":[]}");
        assertEquals(400, r.statusCode());
        assertTrue(JSON.readTree(r.body()).path("error").path("message").asText().contains("messages"));
    }

    @Test void fullQueueAnswers429() throws Exception {
        try (OpenAiServer small = TestServers.start(new ServedModel("tiny", moe, new ByteCodec()), 1, 0)) {
            String body = "{\"prompt\":\"x\",\"max_tokens\":120,\"temperature\":0}";
            List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fs.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + small.port() + "/v1/completions"))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            List<Integer> codes = new ArrayList<>();
            for (var f : fs) codes.add(f.get().statusCode());
            assertTrue(codes.contains(200), codes.toString());
            assertTrue(codes.contains(429), codes.toString());
        }
    }

    /** Our LLM client (LangChain4j) against our server: the endpoint the synth tests can talk to. */
    @Test void llmClientTalksToServe(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        var opts = org.routecal.synth.llm.LlmOptions.of("http://127.0.0.1:" + server.port(), "tiny");
        try (var c = org.routecal.synth.llm.LlmClient.create(opts, dir.resolve("llm_calls.jsonl"))) {
            var r = c.chat("t", List.of(org.routecal.tokenize.ChatMessage.user("hi")),
                    new org.routecal.synth.llm.LlmParams(0.0, null, 16, null, java.util.Map.of()));
            // the byte codec has no stop token, so the 16 tokens run out: the reason the server sent arrives as LENGTH
            assertEquals(16, r.completionTokens());
            assertEquals("LENGTH", r.finishReason());
            assertEquals(1, r.attempts());
            // a stop string from that (greedy, so repeatable) answer ends the next one early: STOP, text cut before it
            String content = r.content();
            // an ASCII character that first occurs after the start (a U+FFFD would match a half-decoded character early)
            int at = 1;
            while (at < content.length() && !(content.charAt(at) > ' ' && content.charAt(at) < 127 && content.indexOf(content.charAt(at)) == at)) at++;
            assertTrue(at < content.length(), "a character to stop at in " + content);
            String stop = content.substring(at, at + 1);
            var cut = c.chat("t", List.of(org.routecal.tokenize.ChatMessage.user("hi")),
                    new org.routecal.synth.llm.LlmParams(0.0, null, 16, null, java.util.Map.of("stop", List.of(stop))));
            assertEquals("STOP", cut.finishReason());
            assertEquals(content.substring(0, content.indexOf(stop)), cut.content());
        }
    }

    @Test void stoppedServerRefusesConnections() throws Exception {
        OpenAiServer s = TestServers.start(new ServedModel("tiny", moe, new ByteCodec()), 1, 0);
        int port = s.port();
        s.drain(java.time.Duration.ofSeconds(1));
        assertThrows(ConnectException.class, () -> HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).GET().build(),
                HttpResponse.BodyHandlers.ofString()));
    }
}
