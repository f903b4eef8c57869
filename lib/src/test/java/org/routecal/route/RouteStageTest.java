package org.routecal.route;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.io.Jsonl;
import org.routecal.io.parquet.ParquetTableReader;
import org.routecal.model.HostRoutingTap;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The route and bracket stages end to end on the tiny Qwen3-MoE fixture (layers 0, 1 MoE; layer 2 dense). */
class RouteStageTest {
    static Path qwen3, qwen2;
    static List<RoutedSample> samples;

    @BeforeAll
    static void setUp() {
        qwen3 = fixture("qwen3_moe");
        qwen2 = fixture("qwen2_moe");
        samples = new ArrayList<>();
        Random rnd = new Random(5);
        String[] domains = {"math", "chat", "code"};
        for (int s = 0; s < 7; s++) {
            int n = 5 + rnd.nextInt(20);
            int[] ids = new int[n], cs = new int[n], ce = new int[n];
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < n; i++) {
                ids[i] = rnd.nextInt(256);
                cs[i] = text.length();
                text.append(i == 0 ? "" : " ").append("w").append(ids[i]);
                ce[i] = text.length();
            }
            samples.add(new RoutedSample(String.valueOf(100 + s), domains[s % 3], text.toString(), ids, cs, ce));
        }
    }

    @Test
    void routeThenBracket(@TempDir Path out) throws Exception {
        RouteResult r;
        try (MoeModel model = MoeModel.load(qwen3)) {
            r = RouteStage.run(model, samples, id -> "w" + id, RouteParams.defaults().withJsonl(true).withBatchTokens(30), out,
                    Map.of(), Map.of("seed", 5), Progress.NONE);
            // the stored routing equals each sample's own forward pass (batching changes nothing)
            List<RoutingBatch> stored = new ArrayList<>();
            RoutingParquet.read(out.resolve(RouteRunDir.ROUTING), 1 << 20, stored::add);
            RoutingBatch all = stored.get(0);
            int t = 0;
            for (RoutedSample s : samples) {
                Map<Integer, int[]> ids = new HashMap<>();
                model.forwardBatch(List.of(s.tokenIds()), (HostRoutingTap) (layer, tokens, topK, topkIds, w, logits) ->
                        ids.put(layer, topkIds.clone())).close();
                assertEquals(java.util.Set.of(0, 1), ids.keySet(), "layer 2 is dense in the fixture");
                for (int p = 0; p < s.tokens(); p++, t++) {
                    for (int l = 0; l < 2; l++) {
                        for (int j = 0; j < 2; j++) assertEquals(ids.get(l)[p * 2 + j], all.expertId(t, l, j), "token " + t);
                    }
                    assertEquals(s.charStart()[p], all.charStart()[t]);
                    assertEquals(s.tokenIds()[p], all.tokenId()[t]);
                }
            }
            assertEquals(t, all.tokens());
        }
        // counts in expert_stats.parquet = brute-force recount of routing.parquet, overall and per domain
        long[] recount = new long[16];
        long[][] recountDomain = new long[3][16];
        List<String> domains = List.of("chat", "code", "math");
        RoutingParquet.read(out.resolve(RouteRunDir.ROUTING), 7, b -> {
            for (int i = 0; i < b.tokens(); i++) {
                int d = domains.indexOf(samples.get(b.sampleIndex()[i]).domain());
                for (int l = 0; l < 2; l++) for (int j = 0; j < 2; j++) {
                    recount[l * 8 + b.expertId(i, l, j)]++;
                    recountDomain[d][l * 8 + b.expertId(i, l, j)]++;
                }
            }
        });
        ParquetTableReader stats = ParquetTableReader.open(out.resolve(RouteRunDir.EXPERT_STATS));
        assertArrayEquals(recount, stats.readLongColumn("count"));
        for (int d = 0; d < 3; d++) assertArrayEquals(recountDomain[d], stats.readLongColumn("count_" + domains.get(d)));
        assertArrayEquals(recount, r.expertStats().longColumn("count").asLongArray());

        // token_routing.jsonl: the reference schema, one line per token
        List<JsonNode> lines = Jsonl.read(out.resolve(RouteRunDir.TOKEN_ROUTING));
        int tokens = samples.stream().mapToInt(RoutedSample::tokens).sum();
        assertEquals(tokens, lines.size());
        for (JsonNode line : lines) {
            List<String> keys = new ArrayList<>();
            line.fieldNames().forEachRemaining(keys::add);
            assertEquals(List.of("sample_id", "position_id", "token_id", "token_str", "activated_expert_ids", "weights"), keys);
            assertTrue(line.get("sample_id").isIntegralNumber());
            assertEquals("w" + line.get("token_id").asInt(), line.get("token_str").asText());
            for (String map : new String[]{"activated_expert_ids", "weights"}) {
                List<String> layers = new ArrayList<>();
                line.get(map).fieldNames().forEachRemaining(layers::add);
                assertEquals(List.of("0", "1"), layers);
            }
            for (String l : new String[]{"0", "1"}) {
                JsonNode w = line.get("weights").get(l);
                assertEquals(2, line.get("activated_expert_ids").get(l).size());
                assertTrue(w.get(0).asDouble() >= w.get(1).asDouble(), "ids by descending weight");
            }
        }
        assertEquals(tokens, ParquetTableReader.open(out.resolve(RouteRunDir.TOKEN_SCORES)).rowCount());
        JsonNode metrics = ReferenceFixture.JSON.readTree(out.resolve(RouteRunDir.METRICS).toFile());
        assertEquals(2, metrics.get("per_layer").size());
        assertEquals(64, metrics.get("target").asLong(), "default target = hidden size");
        String report = Files.readString(out.resolve(RouteRunDir.REPORT));
        assertTrue(report.contains("<h2>Expert counts (layer × expert)</h2>") && report.contains("class=\"rc-chart\""));
        assertTrue(!report.contains("src=\"http") && !report.contains("src='http"), "report.html must open offline (no CDN)");
        assertTrue(Files.exists(out.resolve(RouteRunDir.MANIFEST)));

        // bracket: one line per sample, tags strip back to the text
        for (Mode m : Mode.values()) {
            BracketStage.Result br = BracketStage.run(out, new BracketStage.Params(m, null, m.defaultBoxes(), 0.25, 0.25, 0.25, 0.25,
                    Ranking.GLOBAL, Brackets.Overlap.BLUE_FIRST), Progress.NONE);
            List<JsonNode> rows = Jsonl.read(br.output());
            assertEquals(samples.size(), rows.size());
            Iterator<RoutedSample> it = samples.iterator();
            for (JsonNode row : rows) {
                RoutedSample s = it.next();
                assertEquals(s.domain(), row.get("domain").asText());
                assertEquals(Long.parseLong(s.sampleId()), row.get("sample_id").asLong());
                assertEquals(s.tokens(), row.get("n_tokens_total").asInt());
                assertEquals(s.text(), Brackets.strip(row.get("text").asText()));
                assertEquals(m.key(), row.get("mode").asText());
            }
        }
    }

    @Test
    void runDirectoriesAreNeverMixed(@TempDir Path out) throws Exception {
        List<RoutedSample> two = samples.subList(0, 2);
        RouteParams fast = new RouteParams(0, .25, .25, .25, .25, Ranking.PER_LAYER, Mode.BALANCE.defaultBoxes(),
                Mode.Q_SENSITIVITY.defaultBoxes(), 64, false, false, false);
        try (MoeModel model = MoeModel.load(qwen3)) {
            RouteStage.run(model, two, id -> "", fast, out, Map.of(), Map.of(), Progress.NONE);
            RoutecalException again = assertThrows(RoutecalException.class,
                    () -> RouteStage.run(model, two, id -> "", fast, out, Map.of(), Map.of(), Progress.NONE));
            assertTrue(again.getMessage().contains("--overwrite"), again.getMessage());
            RouteStage.run(model, two, id -> "", fast.withOverwrite(true), out, Map.of(), Map.of(), Progress.NONE);
            RoutecalException empty = assertThrows(RoutecalException.class,
                    () -> RouteStage.run(model, List.of(), id -> "", fast, out.resolve("x"), Map.of(), Map.of(), Progress.NONE));
            assertTrue(empty.getMessage().contains("no sample"), empty.getMessage());
        }
        try (MoeModel other = MoeModel.load(qwen2)) {
            List<RoutedSample> small = List.of(new RoutedSample("a", "d", "x", new int[]{1}, new int[]{0}, new int[]{1}));
            RoutecalException e = assertThrows(RoutecalException.class,
                    () -> RouteStage.run(other, small, id -> "", fast.withOverwrite(true), out, Map.of(), Map.of(), Progress.NONE));
            assertTrue(e.getMessage().contains("different model"), e.getMessage());
        }
    }

    /**
     * A route killed mid-run leaves our marker, 0-byte files and no manifest: bracket refuses to read it, and a rerun with
     * --overwrite replaces it (it used to fail with "a routing run of a different model (fingerprint unreadable)").
     */
    @Test
    void anInterruptedRunIsRefusedByReadersAndReplacedByOverwrite(@TempDir Path out) throws Exception {
        try (org.routecal.pipeline.OutputDir killed = org.routecal.pipeline.OutputDir.of("route", out).open()) {
            for (String f : List.of(RouteRunDir.ROUTING, RouteRunDir.SAMPLES, RouteRunDir.EXPERT_STATS)) Files.createFile(out.resolve(f));
        }
        BracketStage.Params p = new BracketStage.Params(Mode.BALANCE, null, Mode.BALANCE.defaultBoxes(), .25, .25, .25, .25,
                Ranking.GLOBAL, Brackets.Overlap.BLUE_FIRST);
        RoutecalException e = assertThrows(RoutecalException.class, () -> BracketStage.run(out, p, Progress.NONE));
        assertTrue(e.getMessage().contains("not a finished `routecal route` run"), e.getMessage());
        RouteParams fast = new RouteParams(0, .25, .25, .25, .25, Ranking.PER_LAYER, Mode.BALANCE.defaultBoxes(),
                Mode.Q_SENSITIVITY.defaultBoxes(), 64, false, false, true);
        try (MoeModel model = MoeModel.load(qwen3)) {
            RouteStage.run(model, samples.subList(0, 2), id -> "", fast, out, Map.of(), Map.of(), Progress.NONE);
        }
        assertTrue(Files.size(out.resolve(RouteRunDir.ROUTING)) > 0);
        BracketStage.run(out, p, Progress.NONE);
    }

    static Path fixture(String family) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("tests/fixtures/models/" + family + "/v1");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("fixture model " + family + " not found");
    }
}
