package org.routecal.demo;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.routecal.cli.Main;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generated demo assets against the HF reference fixture {@code tests/fixtures/demo/v1/expected.json}, made by
 * {@code tests/make_demo_fixture.py} with transformers 5.17: same bytes (so the fixture's HF routing and logits apply
 * to what this machine generates) and the same token ids through DJL's tokenizers binding as through HF.
 */
class DemoAssetsTest {
    private static Path cache;
    private static Path modelDir;
    private static JsonNode expected;

    @BeforeAll
    static void generate() throws Exception {
        cache = Files.createTempDirectory("demo-cache");
        modelDir = DemoAssets.ensure(cache);
        expected = new ObjectMapper().readTree(fixtureDir().resolve("expected.json").toFile());
    }

    @AfterAll
    static void cleanUp() throws Exception {
        deleteTree(cache);
    }

    static void deleteTree(Path dir) throws Exception {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    static Path fixtureDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("tests/fixtures/demo/v1");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("tests/fixtures/demo/v1 not found above " + Path.of("").toAbsolutePath());
    }

    @Test
    void generatedFilesHaveTheFixtureHashes() throws Exception {
        var it = expected.get("sha256").fields();
        int n = 0;
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(modelDir.resolve(e.getKey())));
            assertEquals(e.getValue().asText(), HexFormat.of().formatHex(digest), e.getKey() + " differs from the fixture");
            n++;
        }
        assertTrue(n >= 6, "fixture lists every generated file");
    }

    @Test
    void ensureReusesTheCacheAndLeavesNoTempDirs() throws Exception {
        assertEquals(modelDir, DemoAssets.ensure(cache));
        try (Stream<Path> entries = Files.list(cache)) {
            assertEquals(List.of("demo-" + DemoAssets.VERSION), entries.map(p -> p.getFileName().toString()).toList());
        }
        Path root = modelDir.getParent();
        assertArrayEquals(DemoCorpus.corpusBytes(), Files.readAllBytes(root.resolve("corpus.jsonl")));
        assertArrayEquals(DemoCorpus.poolBytes(), Files.readAllBytes(root.resolve("pool.jsonl")));
    }

    @Test
    void djlTokenizerGivesTheHfTokenIds() throws Exception {
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(modelDir.resolve("tokenizer.json"),
                Map.of("addSpecialTokens", "false"))) {
            int checked = 0;
            for (JsonNode item : expected.get("texts")) {
                String text = item.has("rendered") ? item.get("rendered").asText() : item.get("text").asText();
                long[] ids = tok.encode(text, false, false).getIds();
                long[] hf = new long[item.get("ids").size()];
                for (int i = 0; i < hf.length; i++) hf[i] = item.get("ids").get(i).asLong();
                assertArrayEquals(hf, ids, "token ids of: " + text);
                assertEquals(text, tok.decode(ids, false));
                checked++;
            }
            assertEquals(4, checked);
        }
    }

    @Test
    void projectTokenizerAndChatTemplateReproduceHf() throws Exception {
        try (org.routecal.tokenize.Tokenizer tok = org.routecal.tokenize.Tokenizer.load(modelDir)) {
            for (JsonNode item : expected.get("texts")) {
                String text = item.has("text") ? item.get("text").asText() : null;
                if (item.has("messages")) {
                    List<org.routecal.tokenize.ChatMessage> msgs = new java.util.ArrayList<>();
                    for (JsonNode m : item.get("messages")) msgs.add(org.routecal.tokenize.ChatMessage.fromJson(m, "messages"));
                    text = tok.chatTemplate().orElseThrow().render(msgs, false, Map.of());
                    assertEquals(item.get("rendered").asText(), text, "chat template renders as HF's apply_chat_template");
                }
                int[] hf = new ObjectMapper().convertValue(item.get("ids"), int[].class);
                assertArrayEquals(hf, tok.encode(text).ids(), "token ids of: " + text);
            }
        }
    }

    @Test
    void plantedGroupsPartitionTheExpertsInEveryLayer() throws Exception {
        JsonNode planted = new ObjectMapper().readTree(modelDir.resolve("planted_routing.json").toFile());
        JsonNode config = new ObjectMapper().readTree(modelDir.resolve("config.json").toFile());
        int experts = config.get("num_experts").asInt();
        assertEquals(config.get("num_hidden_layers").asInt(), planted.get("groups_per_layer").size());
        assertEquals(config.get("vocab_size").asInt(), planted.get("token_class").size());
        Set<String> layouts = new HashSet<>();
        for (JsonNode layer : planted.get("groups_per_layer")) {
            Set<Integer> seen = new HashSet<>();
            layer.fields().forEachRemaining(g -> g.getValue().forEach(e -> assertTrue(seen.add(e.asInt()))));
            assertEquals(experts, seen.size());
            layouts.add(layer.toString());
        }
        assertEquals(planted.get("groups_per_layer").size(), layouts.size(), "groups are shuffled per layer");
    }

    @Test
    void plantedRoutingHoldsInEveryLayerOfTheHfModel() {
        // Measured by HF transformers in the fixture script: share of top-k slots inside the token's planted group.
        for (String set : List.of("corpus", "pool")) {
            for (JsonNode layer : expected.get("planted_share").get(set)) {
                layer.fields().forEachRemaining(c -> {
                    if (!c.getKey().equals("other")) {
                        double s = c.getValue().asDouble();
                        assertTrue(s >= 0.7, set + " " + c.getKey() + " share " + s);
                    }
                });
            }
        }
    }

    @Test
    void cliWritesTheAssets() throws Exception {
        Path tmp = Files.createTempDirectory("demo-cli");
        Path out = tmp.resolve("assets");
        try {
            assertEquals(0, Main.run("demo-assets", "--out", out.toString()));
            assertArrayEquals(Files.readAllBytes(modelDir.resolve("model.safetensors")), Files.readAllBytes(out.resolve("model/model.safetensors")));
            assertNotEquals(0, Main.run("demo-assets", "--out", out.toString()), "refuses a non-empty directory");
        } finally {
            deleteTree(tmp);
        }
    }
}
