package org.routecal.synth.extract;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.pipeline.Progress;
import org.routecal.io.Jsonl;
import org.routecal.synth.PromptTemplates;
import org.routecal.synth.llm.FaultyOpenAiServer;
import org.routecal.synth.llm.LlmOptions;
import org.routecal.synth.llm.LlmParams;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class ExtractTest {
    @TempDir Path dir;

    @Test void spansAndUnbalancedTags() {
        BracketedSample s = new BracketedSample("d", "s1", "balance", 3, 1, 1, "a <red>b</red> <blue>c</blue>");
        assertEquals(List.of(new BracketedSample.Span("plain", "a "), new BracketedSample.Span("red", "b"),
                new BracketedSample.Span("plain", " "), new BracketedSample.Span("blue", "c")), s.spans());
        assertEquals("a b c", s.plainText());
        RoutecalException e = assertThrows(RoutecalException.class, () -> new BracketedSample("d", "s2", "m", 0, 0, 0, "<red>x</blue>").spans());
        assertTrue(e.getMessage().contains("s2"));
    }

    @Test void logOddsByHand() {
        // red: "x x y" (3 unigrams), blue: "y z" (2 unigrams); V = 3 distinct unigrams, α = 0.5
        BracketedSample s = new BracketedSample("d", "s", "m", 5, 2, 3, "<red>x x y</red><blue>y z</blue>");
        RedBlueStats.Summary sum = RedBlueStats.summarize("d", List.of(s), 1, 1, 10);
        RedBlueStats.Term x = sum.redEnriched().get(0);
        assertEquals("x", x.text());
        assertEquals(Math.log(2.5 / 4.5) - Math.log(0.5 / 3.5), x.logOdds(), 1e-12);
        RedBlueStats.Term z = sum.blueEnriched().get(0);
        assertEquals("z", z.text());
        assertEquals(Math.log(0.5 / 4.5) - Math.log(1.5 / 3.5), z.logOdds(), 1e-12);
        // "y": 1 of 3 red vs 1 of 2 blue → slightly blue
        assertTrue(sum.blueEnriched().stream().anyMatch(t -> t.text().equals("y")));
    }

    @Test void stratifiedChoiceSpansTheRedRangeAndFollowsTheSeed() {
        List<BracketedSample> samples = new ArrayList<>();
        for (int i = 0; i < 100; i++) samples.add(new BracketedSample("d", String.format("s%03d", i), "m", 100, 0, i + 1, "<red>x</red>"));
        List<BracketedSample> a = ExampleChooser.stratified(samples, 4, 1);
        assertEquals(4, a.size());
        for (int q = 0; q < 4; q++) {
            double share = a.get(q).redShare();
            assertTrue(share > q * 0.25 && share <= (q + 1) * 0.25 + 1e-9, "stratum " + q + " got " + share);
        }
        assertEquals(a, ExampleChooser.stratified(samples, 4, 1));
        Set<List<BracketedSample>> seen = new HashSet<>();
        for (long seed = 0; seed < 10; seed++) seen.add(ExampleChooser.stratified(samples, 4, seed));
        assertTrue(seen.size() > 1, "the seed must change the choice");
    }

    @Test void truncationNeverLeavesATagOpenOrSplit() {
        String t = "<red>" + "a".repeat(50) + "</red><blue>" + "b".repeat(50) + "</blue>";
        for (int cut = 1; cut < t.length(); cut++) {
            String s = ExampleChooser.truncateTagged(t, cut);
            new BracketedSample("d", "cut" + cut, "m", 0, 0, 0, s.replace(" […]", "")).spans(); // throws if unbalanced
        }
    }

    @Test void withoutEndpointTheStatisticsAreTheGuideline() throws Exception {
        Path f = ExtractTestData.writeBracketed(dir, "balance");
        ExtractStage.Result r = ExtractStage.run(new ExtractParams(List.of(f), dir, Set.of(), 6, 400, 2, 2, 5, 42, null, null,
                LlmParams.DEFAULT), Progress.NONE);
        assertEquals(2, r.guidelines().size());
        Guideline g = Guideline.read(dir.resolve("guidelines/balance_code.json"));
        assertEquals("statistics", g.source());
        assertEquals(6, g.exampleIds().size());
        assertTrue(g.text().contains("\"zeta\"") || g.text().contains("\"zeta gamma\""), g.text());
        assertTrue(g.text().indexOf("zeta") < g.text().indexOf("Use fewer"), "red terms go in the 'use more' point");
        assertTrue(Files.readString(dir.resolve("guidelines/balance_code.md")).startsWith("1. "));
        assertEquals(g, Guideline.read(dir.resolve("guidelines/balance_code.json")));
    }

    @Test void llmGuidelineCarriesStatisticsAndExamplesInThePrompt() throws Exception {
        Path f = ExtractTestData.writeBracketed(dir, "q_sensitivity");
        try (FaultyOpenAiServer s = new FaultyOpenAiServer().script(FaultyOpenAiServer.Fault.HTTP_503)
                .answer(b -> "1. Write about " + b.path("messages").get(0).path("content").asText().contains("Statistical evidence"))) {
            LlmOptions o = LlmOptions.of(s.baseUrl(), "gen").withRetries(2, Duration.ofMillis(1));
            ExtractStage.run(new ExtractParams(List.of(f), dir, Set.of("math"), 5, 400, 2, 2, 5, 42, null, o, LlmParams.DEFAULT), Progress.NONE);
            Guideline g = Guideline.read(dir.resolve("guidelines/q_sensitivity_math.json"));
            assertEquals("llm", g.source());
            assertEquals("1. Write about true", g.text());
            String prompt = s.bodies().get(1).path("messages").get(0).path("content").asText();
            assertTrue(prompt.contains("quantization-sensitive"), "the q_sensitivity template was used");
            assertTrue(prompt.contains("zeta"), "statistics are in the prompt");
            assertEquals(5, prompt.split("\\[sample]: ").length - 1, "the chosen examples are in the prompt");
            assertFalse(Files.exists(dir.resolve("guidelines/q_sensitivity_code.json")), "domain filter");
            assertEquals(2, Jsonl.readLog(dir.resolve("llm_calls.jsonl")).size());
        }
    }

    @Test void extractCommandWritesGuidelinesAndAManifest() throws Exception {
        Path f = ExtractTestData.writeBracketed(dir, "balance");
        int rc = org.routecal.cli.Main.run("extract", "--bracketed", f.toString(), "--out", dir.resolve("run").toString(),
                "--examples", "3", "--ngram", "2", "--min-count", "2");
        assertEquals(0, rc);
        assertEquals("statistics", Guideline.read(dir.resolve("run/guidelines/balance_math.json")).source());
        var m = org.routecal.pipeline.Manifest.read(dir.resolve("run/manifest.json"));
        assertEquals("extract", m.command());
        assertEquals(1, m.inputs("bracketed").size());
        assertEquals(4, m.outputs().size(), "2 guidelines × (.md + .json)");
        assertEquals(2, org.routecal.cli.Main.run("extract", "--bracketed", dir.resolve("missing.jsonl").toString(), "--out", dir.toString()));
    }

    @Test void promptDirOverridesAndMissingValuesFail() throws Exception {
        Path pd = Files.createDirectories(dir.resolve("prompts"));
        Files.writeString(pd.resolve("extract_balance.md"), "custom {{domain}} {{statistics}}");
        PromptTemplates t = new PromptTemplates(pd);
        assertTrue(t.source("extract_balance.md").endsWith("extract_balance.md"));
        assertEquals("custom code S", t.render("extract_balance.md", Map.of("domain", "code", "statistics", "S")));
        RoutecalException e = assertThrows(RoutecalException.class, () -> t.render("extract_balance.md", Map.of("domain", "code")));
        assertTrue(e.getMessage().contains("statistics"));
        assertTrue(new PromptTemplates(null).load("synthesize.md").contains("{{guideline}}"));
    }
}
