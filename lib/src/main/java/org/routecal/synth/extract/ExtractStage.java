package org.routecal.synth.extract;

import org.routecal.RoutecalException;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Progress;
import org.routecal.synth.SynthManifests;
import org.routecal.synth.PromptTemplates;
import org.routecal.synth.llm.LlmClient;
import org.routecal.synth.llm.LlmException;
import org.routecal.tokenize.ChatMessage;
import org.routecal.synth.llm.LlmResult;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Stage 2, pattern extraction: one guideline per (mode, domain) from the bracketed samples.
 *
 * <p>Per (mode, domain): the red-vs-blue statistics ({@link RedBlueStats}), a stratified example set
 * ({@link ExampleChooser}), the template {@code extract_{mode}.md} filled with both, one LLM call. Without an endpoint,
 * or when the call fails for good or answers empty, the guideline is rendered from the statistics alone and the
 * reason is recorded in the guideline's {@code note}.
 */
public final class ExtractStage {
    private ExtractStage() {}

    /** What the stage wrote. */
    public record Result(Path guidelinesDir, List<Guideline> guidelines) {
        @Override public String toString() {
            StringBuilder sb = new StringBuilder("extract: " + guidelines.size() + " guidelines in " + guidelinesDir + "\n");
            for (Guideline g : guidelines) {
                sb.append(String.format(Locale.ROOT, "  %-14s %-8s %-10s %d examples%s%n", g.mode(), g.domain(), g.source(),
                        g.exampleIds().size(), g.note() == null ? "" : " (" + g.note() + ")"));
            }
            return sb.toString();
        }
    }

    /**
     * Runs into {@code p.outDir()} as its own output directory (ownership marker, overwrite rules, manifest), as the
     * CLI and the demo do.
     */
    public static Result runInto(ExtractParams p, boolean overwrite, Progress progress) {
        try (OutputDir dir = OutputDir.of("extract", p.outDir()).overwrite(overwrite).inputs("--bracketed", p.bracketed()).open()) {
            ExtractParams staged = p.withOutDir(dir.path());
            Result r = run(staged, progress);
            SynthManifests.finish(dir, manifest(staged, r), "guidelines", "llm_calls.jsonl");
            return r;
        }
    }

    public static Result run(ExtractParams p, Progress progress) {
        // (mode, domain) → samples, in a stable order
        Map<String, Map<String, List<BracketedSample>>> groups = new TreeMap<>();
        for (Path f : p.bracketed()) {
            for (BracketedSample s : BracketedSample.read(f)) {
                if (!p.domains().isEmpty() && !p.domains().contains(s.domain())) continue;
                groups.computeIfAbsent(s.mode(), k -> new TreeMap<>()).computeIfAbsent(s.domain(), k -> new ArrayList<>()).add(s);
            }
        }
        if (groups.isEmpty()) throw new RoutecalException("no bracketed samples in " + p.bracketed() + (p.domains().isEmpty() ? "" : " for domains " + p.domains()));
        PromptTemplates templates = new PromptTemplates(p.promptDir());
        Path dir = p.outDir().resolve("guidelines");
        int total = groups.values().stream().mapToInt(Map::size).sum();
        progress.start("extract", total);
        List<Guideline> out = new ArrayList<>();
        try (LlmClient llm = p.llm() == null ? null : LlmClient.create(p.llm(), p.outDir().resolve("llm_calls.jsonl"))) {
            for (var byMode : groups.entrySet()) {
                for (var byDomain : byMode.getValue().entrySet()) {
                    Guideline g = one(p, templates, llm, byMode.getKey(), byDomain.getKey(), byDomain.getValue());
                    g.write(dir);
                    out.add(g);
                    progress.advance(1);
                }
            }
        }
        progress.finish();
        return new Result(dir, out);
    }

    /** The manifest of an extract run (inputs and parameters; the command adds outputs and results). */
    public static org.routecal.pipeline.Manifest.Builder manifest(ExtractParams p, Result r) {
        org.routecal.pipeline.Manifest.Builder m = org.routecal.pipeline.Manifest.builder("extract").seed(p.seed())
                .parameter("domains", List.copyOf(p.domains())).parameter("examples_per_domain", p.examplesPerDomain())
                .parameter("max_example_chars", p.maxExampleChars()).parameter("max_n", p.maxN()).parameter("min_count", p.minCount())
                .parameter("top_terms", p.topTerms()).parameter("prompt_dir", String.valueOf(p.promptDir()))
                .parameter("llm", org.routecal.synth.SynthManifests.llm(p.llm(), p.llmParams()));
        p.bracketed().forEach(f -> m.input("bracketed", f));
        m.result("guidelines", r.guidelines().size());
        return m;
    }

    private static Guideline one(ExtractParams p, PromptTemplates templates, LlmClient llm, String mode, String domain,
                                 List<BracketedSample> samples) {
        RedBlueStats.Summary stats = RedBlueStats.summarize(domain, samples, p.maxN(), p.minCount(), p.topTerms());
        // a per-(mode, domain) seed, so adding a domain does not change another's examples
        long seed = p.seed() * 31 + (mode + "/" + domain).hashCode();
        List<BracketedSample> chosen = ExampleChooser.stratified(samples, p.examplesPerDomain(), seed);
        List<String> shown = chosen.stream().map(s -> ExampleChooser.truncateTagged(s.text(), p.maxExampleChars())).toList();
        List<String> ids = chosen.stream().map(BracketedSample::sampleId).toList();
        String statsText = stats.render();
        if (llm == null) {
            return new Guideline(mode, domain, "statistics", "no LLM endpoint configured", null, null,
                    fromStatistics(stats), statsText, ids, shown);
        }
        String examplesBlock = shown.stream().map(t -> "[sample]: " + t).collect(Collectors.joining("\n\n"));
        String prompt = templates.render("extract_" + mode + ".md", Map.of("domain", domain,
                "domain_context", templates.domainContext(domain), "statistics", statsText, "examples", examplesBlock));
        try {
            LlmResult r = llm.chat("extract/" + mode + "/" + domain, List.of(ChatMessage.user(prompt)), p.llmParams());
            if (r.content().isBlank()) {
                return new Guideline(mode, domain, "statistics", "LLM answer was empty (call " + r.callId() + ")",
                        p.llm().model(), r.callId(), fromStatistics(stats), statsText, ids, shown);
            }
            return new Guideline(mode, domain, "llm", null, p.llm().model(), r.callId(), r.content().strip(), statsText, ids, shown);
        } catch (LlmException e) {
            if (e.kind() == LlmException.Kind.NOT_RETRIABLE) throw e;
            return new Guideline(mode, domain, "statistics", "LLM call failed: " + e.getMessage(), p.llm().model(), null,
                    fromStatistics(stats), statsText, ids, shown);
        }
    }

    /** The guideline written from the statistics alone: a numbered list, like an LLM's answer. */
    static String fromStatistics(RedBlueStats.Summary s) {
        StringBuilder sb = new StringBuilder();
        sb.append("1. Use more of these words and phrases (over-represented where the wanted experts fire): ")
                .append(quoted(s.redEnriched())).append(".\n");
        sb.append("2. Use fewer of these (over-represented where the already well-covered experts fire): ")
                .append(quoted(s.blueEnriched())).append(".\n");
        sb.append("3. Keep the text natural, correct and typical of the ").append(s.domain())
                .append(" domain: it is calibration data and must read like real use.\n");
        return sb.toString();
    }

    private static String quoted(List<RedBlueStats.Term> terms) {
        if (terms.isEmpty()) return "(none stand out)";
        return terms.stream().map(t -> "\"" + t.text() + "\"").collect(Collectors.joining(", "));
    }
}
