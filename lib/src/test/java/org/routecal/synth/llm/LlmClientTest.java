package org.routecal.synth.llm;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.io.Jsonl;
import org.routecal.tokenize.ChatMessage;
import org.routecal.synth.llm.FaultyOpenAiServer.Fault;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** LlmClient against a real HTTP server on loopback that injects faults. */
class LlmClientTest {
    private static final String KEY = "sk-test-SECRET-0123456789";
    @TempDir Path dir;

    private LlmClient client(FaultyOpenAiServer s, LlmOptions o) {
        return new LlmClient(o, dir.resolve("llm_calls.jsonl"), Map.of("ROUTECAL_TEST_KEY", KEY)::get, new Random(1));
    }

    private LlmOptions opts(FaultyOpenAiServer s) {
        return LlmOptions.of(s.baseUrl(), "m").withApiKeyEnv("ROUTECAL_TEST_KEY")
                .withRetries(3, Duration.ofMillis(5)).withTimeout(Duration.ofMillis(800));
    }

    @Test void retriesTransientFaultsThenSucceedsAndLogsEveryAttemptWithoutTheKey() throws Exception {
        try (FaultyOpenAiServer s = new FaultyOpenAiServer().script(Fault.HTTP_500, Fault.HTTP_429, Fault.MALFORMED);
             LlmClient c = client(s, opts(s))) {
            LlmResult r = c.chat("t", List.of(ChatMessage.system("sys"), ChatMessage.user("hello")),
                    new LlmParams(0.7, 0.9, 64, 3, Map.of("chat_template_kwargs", Map.of("enable_thinking", false))));
            assertEquals(4, r.attempts());
            assertEquals("answer 4", r.content());
            assertEquals(4, s.bodies().size());
            // the request carried our parameters and messages, and the key as a bearer token
            var body = s.bodies().get(3);
            assertEquals("m", body.path("model").asText());
            assertEquals(0.7, body.path("temperature").asDouble(), 1e-9);
            assertEquals(64, body.path("max_tokens").asInt(body.path("max_completion_tokens").asInt()));
            assertFalse(body.path("chat_template_kwargs").path("enable_thinking").asBoolean(true));
            assertEquals("hello", body.path("messages").get(1).path("content").asText());
            assertEquals("Bearer " + KEY, s.authHeaders().get(0));

            List<ObjectNode> log = Jsonl.readLog(c.callLog());
            assertEquals(List.of("http_500", "http_429", "malformed_response", "ok"),
                    log.stream().map(n -> n.path("outcome").asText()).toList());
            assertTrue(log.stream().allMatch(n -> n.path("call_id").asText().equals(r.callId())));
            assertEquals("hello", log.get(0).path("messages").get(1).path("content").asText());
            assertTrue(log.get(3).path("raw_response").asText().contains("answer 4"));
            assertEquals(15, c.tokensUsed());
            assertFalse(Files.readString(c.callLog()).contains(KEY), "the API key must never reach the log");
        }
    }

    @Test void timeoutIsRetriedAndCounted() throws Exception {
        try (FaultyOpenAiServer s = new FaultyOpenAiServer().slowMillis(3000).script(Fault.SLOW);
             LlmClient c = client(s, opts(s))) {
            LlmResult r = c.chat("t", List.of(ChatMessage.user("x")), LlmParams.DEFAULT);
            assertEquals(2, r.attempts());
            List<ObjectNode> log = Jsonl.readLog(c.callLog());
            assertEquals("timeout", log.get(0).path("outcome").asText());
            assertTrue(log.get(0).path("latency_ms").asLong() >= 700);
        }
    }

    @Test void clientErrorIsNotRetried() throws Exception {
        try (FaultyOpenAiServer s = new FaultyOpenAiServer().script(Fault.HTTP_400); LlmClient c = client(s, opts(s))) {
            LlmException e = assertThrows(LlmException.class, () -> c.chat("t", List.of(ChatMessage.user("x")), LlmParams.DEFAULT));
            assertEquals(LlmException.Kind.NOT_RETRIABLE, e.kind());
            assertEquals(1, s.bodies().size());
        }
    }

    @Test void retriesRunOutAfterTheLimit() throws Exception {
        try (FaultyOpenAiServer s = new FaultyOpenAiServer().script(Fault.HTTP_503, Fault.HTTP_503, Fault.NO_CHOICES, Fault.HTTP_503);
             LlmClient c = client(s, opts(s))) {
            LlmException e = assertThrows(LlmException.class, () -> c.chat("t", List.of(ChatMessage.user("x")), LlmParams.DEFAULT));
            assertEquals(LlmException.Kind.RETRIES_EXHAUSTED, e.kind(), String.valueOf(e.getCause()));
            assertEquals(4, s.bodies().size());
            assertEquals(4, Jsonl.readLog(c.callLog()).size());
        }
    }

    @Test void requestBudgetStopsCalls() throws Exception {
        try (FaultyOpenAiServer s = new FaultyOpenAiServer(); LlmClient c = client(s, opts(s).withBudget(2, 0))) {
            c.chat("a", List.of(ChatMessage.user("x")), LlmParams.DEFAULT);
            c.chat("b", List.of(ChatMessage.user("x")), LlmParams.DEFAULT);
            assertTrue(c.budgetExhausted());
            LlmException e = assertThrows(LlmException.class, () -> c.chat("c", List.of(ChatMessage.user("x")), LlmParams.DEFAULT));
            assertEquals(LlmException.Kind.BUDGET_EXHAUSTED, e.kind());
            assertEquals(2, s.bodies().size());
        }
    }

    @Test void tokenBudgetStopsCalls() throws Exception {
        try (FaultyOpenAiServer s = new FaultyOpenAiServer(); LlmClient c = client(s, opts(s).withBudget(0, 20))) {
            c.chat("a", List.of(ChatMessage.user("x")), LlmParams.DEFAULT); // 15 tokens
            c.chat("b", List.of(ChatMessage.user("x")), LlmParams.DEFAULT); // 30 ≥ 20
            assertThrows(LlmException.class, () -> c.chat("c", List.of(ChatMessage.user("x")), LlmParams.DEFAULT));
            assertEquals(2, s.bodies().size());
        }
    }

    @Test void concurrencyIsBounded() throws Exception {
        try (FaultyOpenAiServer s = new FaultyOpenAiServer().okDelayMillis(150);
             LlmClient c = client(s, opts(s).withConcurrency(2))) {
            ExecutorService pool = Executors.newFixedThreadPool(6);
            List<Future<LlmResult>> fs = new ArrayList<>();
            for (int i = 0; i < 6; i++) fs.add(pool.submit(() -> c.chat("p", List.of(ChatMessage.user("x")), LlmParams.DEFAULT)));
            for (Future<LlmResult> f : fs) assertEquals(1, f.get().attempts());
            pool.shutdown();
            assertEquals(2, s.peakInFlight());
        }
    }

    @Test void baseUrlGetsV1Once() {
        assertEquals("http://h:1/v1/", LlmOptions.of("http://h:1", "m").normalizedBaseUrl());
        assertEquals("http://h:1/v1/", LlmOptions.of("http://h:1/v1/", "m").normalizedBaseUrl());
    }
}
