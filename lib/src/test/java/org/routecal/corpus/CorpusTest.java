package org.routecal.corpus;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.tokenize.ChatMessage;
import org.routecal.tokenize.Encoding;
import org.routecal.tokenize.Tokenizer;
import org.routecal.tokenize.TokenizerFixtures;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CorpusTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Tokenizer qwen3;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() { qwen3 = TokenizerFixtures.qwen3Tokenizer(); }

    private Path jsonl(String name, List<?> rows) throws IOException {
        Path f = tmp.resolve(name);
        List<String> lines = new ArrayList<>();
        for (Object r : rows) lines.add(r instanceof String s ? s : JSON.writeValueAsString(r));
        Files.write(f, lines);
        return f;
    }

    private static Map<String, Object> text(String text, String domain) {
        Map<String, Object> m = new HashMap<>();
        m.put("text", text);
        if (domain != null) m.put("domain", domain);
        return m;
    }

    @Test
    void textRowsAreTokenizedExactlyAsTransformers() throws IOException {
        List<Object> rows = new ArrayList<>();
        List<int[]> want = new ArrayList<>();
        for (JsonNode e : TokenizerFixtures.json("qwen3_encodings.json").get("encodings")) {
            if (e.get("text").asText().isBlank()) continue; // identical after normalisation: de-dup would merge them
            rows.add(Map.of("text", e.get("text").asText()));
            int[] ids = new int[e.get("ids").size()];
            for (int i = 0; i < ids.length; i++) ids[i] = e.get("ids").get(i).asInt();
            want.add(ids);
        }
        List<Sample> samples = Corpus.load(CorpusOptions.of(jsonl("texts.jsonl", rows)).withChatTemplate(true), qwen3);
        assertEquals(rows.size(), samples.size());
        for (int i = 0; i < samples.size(); i++) {
            assertArrayEquals(want.get(i), samples.get(i).encoding().ids(), samples.get(i).text());
            assertEquals(Integer.toString(i), samples.get(i).sampleId(), "default sample_id is the row index");
            assertEquals("default", samples.get(i).domain());
        }
    }

    @Test
    void messageRowsAreRenderedWithTheModelsTemplate() throws IOException {
        List<Object> rows = new ArrayList<>();
        List<String> want = new ArrayList<>();
        for (JsonNode c : TokenizerFixtures.json("qwen3_chats.json").get("chats")) {
            if (c.get("add_generation_prompt").asBoolean() || c.get("kwargs").size() > 0) continue;
            rows.add(Map.of("messages", c.get("messages"), "sample_id", c.get("name").asText(), "domain", "chat"));
            want.add(c.get("rendered").asText());
        }
        assertTrue(rows.size() >= 4);
        List<Sample> samples = Corpus.load(CorpusOptions.of(jsonl("chats.jsonl", rows)), qwen3);
        assertEquals(want, samples.stream().map(Sample::text).collect(Collectors.toList()));
        for (Sample s : samples) assertArrayEquals(qwen3.encode(s.text()).ids(), s.encoding().ids());
    }

    /** A template that prints what it was given shows enable_thinking and the reasoning rename reach it. */
    @Test
    void enableThinkingAndReasoningReachTheTemplate() throws IOException {
        Path model = tmp.resolve("model");
        Files.createDirectories(model);
        Files.copy(TokenizerFixtures.tiny().resolve("tokenizer.json"), model.resolve("tokenizer.json"));
        Files.writeString(model.resolve("chat_template.jinja"),
            "{{ enable_thinking }}|{% for m in messages %}{{ m.role }}:{{ m.content }}:{{ m.reasoning_content }};{% endfor %}");
        List<Object> rows = List.of(Map.of("messages", List.of(Map.of("role", "user", "content", "q"),
            Map.of("role", "assistant", "content", "a", "reasoning", "r"))));
        Path f = jsonl("r.jsonl", rows);
        try (Tokenizer t = Tokenizer.load(model)) {
            assertEquals("False|user:q:;assistant:a:r;", Corpus.load(CorpusOptions.of(f).withEnableThinking(false), t).get(0).text());
            assertEquals("|user:q:;assistant:a:r;", Corpus.load(CorpusOptions.of(f), t).get(0).text());
            assertEquals("user:\nq\n\nassistant:\nr\n\na", Corpus.load(CorpusOptions.of(f).withChatTemplate(false), t).get(0).text());
        }
    }

    @Test
    void dedupDropsRepeatsUpToWhitespaceUnlessDisabled() throws IOException {
        Path f = jsonl("d.jsonl", List.of(text("Same text here.", "a"), text("  Same   text\nhere. ", "a"), text("Other.", "a")));
        Corpus.Loaded r = Corpus.read(CorpusOptions.of(f), qwen3);
        assertEquals(2, r.samples().size());
        assertEquals(1, r.duplicates());
        assertEquals(List.of("0", "2"), r.samples().stream().map(Sample::sampleId).collect(Collectors.toList()));
        assertEquals(3, Corpus.load(CorpusOptions.of(f).withDedup(false), qwen3).size());
    }

    @Test
    void stratifiedSamplingIsSeededAndBalanced() throws IOException {
        List<Object> rows = new ArrayList<>();
        for (int i = 0; i < 10; i++) rows.add(text("math problem number " + i + ".", "math"));
        for (int i = 0; i < 5; i++) rows.add(text("code snippet number " + i + ".", "code"));
        rows.add(text("the only chat row.", "chat"));
        Path f = jsonl("s.jsonl", rows);

        Map<String, Long> perDomain = count(Corpus.load(CorpusOptions.of(f).withSamplesPerDomain(3), qwen3));
        assertEquals(Map.of("math", 3L, "code", 3L, "chat", 1L), perDomain);
        // 5 over domains of 10, 5 and 1 rows: one each, then the 2 left go to the domains that still have rows
        assertEquals(Map.of("math", 2L, "code", 2L, "chat", 1L), count(Corpus.load(CorpusOptions.of(f).withMaxSamples(5), qwen3)));

        List<String> a = ids(Corpus.load(CorpusOptions.of(f).withSamplesPerDomain(3).withSeed(7), qwen3));
        List<String> b = ids(Corpus.load(CorpusOptions.of(f).withSamplesPerDomain(3).withSeed(7), qwen3));
        assertEquals(a, b, "same seed, same samples");
        List<List<String>> bySeed = new ArrayList<>();
        for (long seed = 0; seed < 5; seed++) bySeed.add(ids(Corpus.load(CorpusOptions.of(f).withSamplesPerDomain(3).withSeed(seed), qwen3)));
        assertTrue(bySeed.stream().distinct().count() > 1, "different seeds pick different rows");
        List<Integer> order = a.stream().map(Integer::parseInt).collect(Collectors.toList());
        assertEquals(order.stream().sorted().collect(Collectors.toList()), order, "samples stay in corpus order");

        List<Sample> onlyCode = Corpus.load(CorpusOptions.of(f).withDomains(List.of("code")), qwen3);
        assertEquals(5, onlyCode.size());
        assertTrue(onlyCode.stream().allMatch(s -> s.domain().equals("code")));
    }

    @Test
    void longSamplesAreCutAtASentenceOrTurnBoundaryNeverSpliced() throws IOException {
        String prose = "The first sentence is short. The second one is a little longer than the first! "
            + "Is the third a question? The fourth sentence ends the paragraph without any fuss at all.";
        List<Map<String, String>> chat = List.of(Map.of("role", "user", "content", "Tell me about the sea."),
            Map.of("role", "assistant", "content", "The sea is large and salty."),
            Map.of("role", "user", "content", "And rivers, in one very long sentence that goes on and on"));
        Path f = jsonl("long.jsonl", List.of(Map.of("text", prose, "sample_id", "prose"), Map.of("messages", chat, "sample_id", "chat")));
        int limit = 30;
        Corpus.Loaded r = Corpus.read(CorpusOptions.of(f).withMaxTokensPerSample(limit), qwen3);
        assertEquals(2, r.cut());
        Sample p = r.samples().get(0);
        assertTrue(prose.startsWith(p.text()), "a cut keeps a prefix");
        assertTrue(p.text().endsWith("!") || p.text().endsWith(".") || p.text().endsWith("?"), p.text());
        assertTrue(p.encoding().size() <= limit);
        assertArrayEquals(qwen3.encode(p.text()).ids(), p.encoding().ids(), "encoding is the cut text's");
        int next = p.text().length() + 1; // the next sentence end after the cut must not have fit
        while (next < prose.length() && ".!?".indexOf(prose.charAt(next - 1)) < 0) next++;
        assertTrue(qwen3.encode(prose.substring(0, next)).size() > limit, "the last boundary under the limit wins");

        Sample c = r.samples().get(1);
        assertTrue(c.text().endsWith("The sea is large and salty.<|im_end|>\n"), c.text());
        assertArrayEquals(qwen3.encode(c.text()).ids(), c.encoding().ids());

        assertEquals(2, r.cutAtBoundary());
        assertEquals(0, r.cutAtLimit());
    }

    /** A text with no turn or sentence boundary before the limit (a long code line) is cut at the limit, counted, never dropped. */
    @Test
    void aSampleWithoutBoundaryIsCutAtTheLimitNotDropped() throws IOException {
        String code = "squares = [x * i for i in range(100) if i % 3 == 0 and x > i or x < -i]  # no sentence end, no newline";
        Path f = jsonl("nb.jsonl", List.of(text("word ".repeat(100), null), text(code, null), text("Short.", null)));
        Corpus.Loaded r = Corpus.read(CorpusOptions.of(f).withMaxTokensPerSample(10), qwen3);
        assertEquals(3, r.samples().size(), "no sample dropped");
        assertEquals(2, r.cutAtLimit());
        assertTrue(r.toString().contains("2 at the limit"), r.toString());
        assertEquals(2, r.summary().get("corpus_cut_at_limit"));
        for (Sample s : r.samples().subList(0, 2)) {
            assertTrue(s.tokens() <= 10 && s.tokens() >= 8, s.text() + " " + s.tokens());
            assertArrayEquals(qwen3.encode(s.text()).ids(), s.ids(), "encoding is the cut text's");
        }
        assertTrue(code.startsWith(r.samples().get(1).text()));
    }

    @Test
    void badInputIsReportedWithFileAndLine() throws IOException {
        assertError(jsonl("empty.jsonl", List.of()), "is empty");
        assertError(jsonl("blank.jsonl", List.of("", "  ")), "is empty");
        Path noText = jsonl("nt.jsonl", List.of(text("fine", null), Map.of("domain", "x")));
        assertError(noText, noText + " line 2: row has neither 'text' nor 'messages'");
        assertError(jsonl("bad.jsonl", List.of("{\"text\": ")), "bad.jsonl line 1: not valid JSON");
        assertError(jsonl("arr.jsonl", List.of("[1, 2]")), "arr.jsonl line 1: expected a JSON object");
        assertError(jsonl("msg.jsonl", List.of(Map.of("messages", "hello"))), "msg.jsonl line 1: field 'messages' must be a list");
        assertError(tmp.resolve("missing.jsonl"), "corpus file not found");
        assertError(jsonl("c.csv", List.of("a,b")), "unknown format");

        Path dupIds = jsonl("ids.jsonl", List.of(Map.of("text", "a", "sample_id", "x"), Map.of("text", "b", "sample_id", "x")));
        assertError(dupIds, dupIds + " line 2: sample_id 'x' repeats the one at " + dupIds + " line 1");

        Path domains = jsonl("dom.jsonl", List.of(text("a", "math"), text("b", "code")));
        RoutecalException e = assertThrows(RoutecalException.class,
            () -> Corpus.load(CorpusOptions.of(domains).withDomains(List.of("chat")), qwen3));
        assertTrue(e.getMessage().contains("no domain 'chat'") && e.getMessage().contains("code, math"), e.getMessage());

        Path chats = jsonl("chat.jsonl", List.of(Map.of("messages", List.of(Map.of("role", "user", "content", "hi")))));
        try (Tokenizer tiny = Tokenizer.load(TokenizerFixtures.tiny())) {
            e = assertThrows(RoutecalException.class, () -> Corpus.load(CorpusOptions.of(chats), tiny));
            assertTrue(e.getMessage().contains(chats + " line 1") && e.getMessage().contains("no chat template"), e.getMessage());
            assertEquals("user:\nhi", Corpus.load(CorpusOptions.of(chats).withChatTemplate(false), tiny).get(0).text());
        }
    }

    /** Nothing is lost silently: every malformed row stops the load with its file and line, a BOM is fine. */
    @Test
    void rowsAreStrictAndEveryErrorNamesFileAndLine() throws IOException {
        Path two = jsonl("two.jsonl", List.of("{\"text\": \"a\"}", "{\"text\": \"b\"} {\"text\": \"c\"}"));
        assertError(two, two + " line 2: not valid JSON");
        Path trailing = jsonl("trail.jsonl", List.of("{\"text\": \"a\"} and more"));
        assertError(trailing, trailing + " line 1: not valid JSON");

        Path bom = tmp.resolve("bom.jsonl");
        Files.write(bom, concat(new byte[]{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, "{\"text\": \"Hello.\"}\n".getBytes(StandardCharsets.UTF_8)));
        assertEquals("Hello.", Corpus.load(CorpusOptions.of(bom), qwen3).get(0).text());

        Path latin1 = tmp.resolve("latin1.jsonl");
        Files.write(latin1, "{\"text\": \"ok\"}\n{\"text\": \"Z\u00fcrich\"}\n".getBytes(StandardCharsets.ISO_8859_1));
        assertError(latin1, latin1 + " line 2: not valid UTF-8");

        Path emptyText = jsonl("et.jsonl", List.of(text("fine", null), Map.of("sample_id", "x", "text", "  ")));
        assertError(emptyText, emptyText + " line 2: empty 'text' (sample_id 'x')");
        Path emptyChat = jsonl("ec.jsonl", List.of(Map.of("messages", List.of(Map.of("role", "user", "content", "")))));
        assertError(emptyChat, emptyChat + " line 1: every turn in 'messages' is empty");

        List<Object> roles = List.of(Map.of("sample_id", 1, "messages", List.of(Map.of("role", "user", "content", "Hi."),
            Map.of("role", "narrator", "content", "(silence)"), Map.of("role", "assistant", "content", "Hello."))));
        Path unknown = jsonl("roles.jsonl", roles);
        assertError(unknown, unknown + " line 1: messages[1] has role 'narrator'");
        Corpus.Loaded dropped = Corpus.read(CorpusOptions.of(unknown).withDropUnknownRoles(true), qwen3);
        assertEquals(1, dropped.unknownRoleTurnsDropped());
        assertTrue(dropped.toString().contains("1 turns with an unknown role dropped"), dropped.toString());
        assertFalse(dropped.samples().get(0).text().contains("silence"));
        assertEquals("1", dropped.samples().get(0).sampleId(), "a numeric sample_id is the id");
    }

    /** Pools are read by the same reader: a directory of .txt files and Parquet rows become the same samples. */
    @Test
    void poolSourcesReadLikeTheCorpus() throws IOException {
        Path pd = Files.createDirectories(tmp.resolve("pool/math"));
        Files.writeString(pd.resolve("a.txt"), "1 + 1 = 2");
        Files.writeString(tmp.resolve("pool/b.txt"), "hello");
        List<Sample> dir = Corpus.load(CorpusOptions.of(tmp.resolve("pool")).whole(tmp.resolve("pool")), qwen3);
        assertEquals(List.of("b.txt", "math/a.txt"), ids(dir));
        assertEquals(List.of("default", "math"), dir.stream().map(Sample::domain).collect(Collectors.toList()));
        Files.write(pd.resolve("bad.txt"), new byte[]{'o', 'k', (byte) 0xFC});
        assertError(tmp.resolve("pool"), pd.resolve("bad.txt") + ": not valid UTF-8");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private void assertError(Path corpus, String expected) {
        RoutecalException e = assertThrows(RoutecalException.class, () -> Corpus.load(CorpusOptions.of(corpus), qwen3));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void writerRoundTripsTextAndMessageRows() throws IOException {
        Path f = tmp.resolve("out/compound.jsonl");
        List<ChatMessage> chat = List.of(ChatMessage.user("Zürich?\n"), new ChatMessage("assistant", "Yes.", "thinking ✓"));
        String multiLine = "line one\nline two\r\nwith \"quotes\", tabs\tand 😀\u2028";
        try (CorpusWriter w = CorpusWriter.open(f)) {
            w.writeText("t1", "code", multiLine);
            w.writeMessages("m1", "chat", chat);
        }
        try (var files = Files.list(f.getParent())) {
            assertEquals(List.of(f), files.collect(Collectors.toList()), "no temporary file left behind");
        }
        List<Sample> back = Corpus.load(CorpusOptions.of(f), qwen3);
        assertEquals(2, back.size());
        assertEquals(List.of("t1", "m1"), ids(back));
        assertEquals(List.of("code", "chat"), back.stream().map(Sample::domain).collect(Collectors.toList()));
        assertEquals(multiLine, back.get(0).text());
        assertEquals(qwen3.chatTemplate().orElseThrow().render(chat, false, Map.of()), back.get(1).text());

        CorpusWriter aborted = CorpusWriter.open(tmp.resolve("aborted.jsonl"));
        aborted.writeText("x", "d", "never committed");
        aborted.abort();
        assertTrue(Files.notExists(tmp.resolve("aborted.jsonl")), "abort leaves no file");

        Path again = tmp.resolve("again.jsonl");
        CorpusWriter.writeAll(again, back);
        List<Sample> twice = Corpus.load(CorpusOptions.of(again), qwen3);
        assertEquals(back.stream().map(Sample::text).collect(Collectors.toList()), twice.stream().map(Sample::text).collect(Collectors.toList()));
        for (int i = 0; i < back.size(); i++) assertEncodingEquals(back.get(i).encoding(), twice.get(i).encoding());
    }

    private static void assertEncodingEquals(Encoding a, Encoding b) {
        assertArrayEquals(a.ids(), b.ids());
        assertArrayEquals(a.charStart(), b.charStart());
        assertArrayEquals(a.charEnd(), b.charEnd());
    }

    private static Map<String, Long> count(List<Sample> samples) {
        return samples.stream().collect(Collectors.groupingBy(Sample::domain, Collectors.counting()));
    }

    private static List<String> ids(List<Sample> samples) {
        return samples.stream().map(Sample::sampleId).collect(Collectors.toList());
    }
}
