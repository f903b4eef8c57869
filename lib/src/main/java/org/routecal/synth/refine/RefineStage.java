package org.routecal.synth.refine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusWriter;
import org.routecal.corpus.Sample;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;
import org.routecal.io.Jsonl;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.Progress;
import org.routecal.route.RoutingCounts;
import org.routecal.synth.SynthManifests;
import org.routecal.synth.TargetModel;
import org.routecal.synth.accept.DeficitObjective;
import org.routecal.synth.accept.SelectionState;
import org.routecal.synth.accept.UsageObjective;
import org.routecal.synth.select.Objective;
import org.routecal.synth.select.SelectStage;
import org.routecal.synth.select.SelectionOptions;
import org.routecal.synth.synthesize.SynthesizeParams;
import org.routecal.synth.synthesize.SynthesizeStage;
import org.routecal.synth.synthesize.SyntheticRow;

import org.routecal.compute.devices.DeviceOptions;
import org.routecal.corpus.CorpusOptions;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.OutputDir;
import org.routecal.session.Session;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.llm.LlmOptions;
import org.routecal.synth.llm.LlmParams;
import org.routecal.tokenize.TextCodec;

import java.nio.file.Path;
import java.util.function.LongFunction;
import java.util.function.ToDoubleFunction;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The loop: route → check the {@link StopRule} → (select from the pool or self-sample, by the {@link Objective} |
 * bracket + extract + synthesize) → merge → repeat; a selecting round that adds nothing stops the loop as
 * {@code no_gain}. In LLM mode without fixed guidelines, every round brackets the corpus as it stands against the current
 * deficit ({@code round_<r>/bracketed_balance.jsonl}) and extracts fresh guidelines ({@code round_<r>/guidelines/}).
 *
 * <p>The original corpus is read by the one corpus reader with route's options, so round 0 counts exactly what
 * {@code route} counts on it; it is never replaced: each round adds accepted texts to it, and the acceptance rule
 * measures every candidate against the original routing distribution (PIPELINE.md's evidence: coverage-only selection
 * hurt). Outputs in {@code outDir}: {@code round_<r>/} (the round's stage outputs and {@code manifest.json}),
 * {@code refine_metrics.jsonl} (one row per round, round 0 = the original corpus), {@code compound.jsonl} (original +
 * accepted, rewritten atomically after every round), {@code refine_report.html}.
 */
public final class RefineStage {
    private RefineStage() {}

    /** {@code startCounts}: the original corpus's routing counts (round 0); {@code corpus}: what the reader kept. */
    public record Result(int rounds, String stopReason, long deficitStart, long deficitEnd, double minEntropyStart,
                         double minEntropyEnd, int added, Path outDir, RoutingCounts startCounts, Corpus.Loaded corpus) {
        @Override public String toString() {
            return String.format(Locale.ROOT, "refine: %d rounds, stopped: %s; deficit %d → %d; min layer entropy %.4f → %.4f; "
                    + "%d texts added%n  compound corpus: %s", rounds, stopReason, deficitStart, deficitEnd, minEntropyStart,
                    minEntropyEnd, added, outDir.resolve("compound.jsonl"));
        }
    }

    /** When the loop stops besides reaching the acceptance target (see {@link StopRule}). */
    public record Stop(int maxRounds, double minEntropy, int patience) {
        public static Stop defaults() { return new Stop(5, 0, 2); }
    }

    /**
     * One refine run as the CLI and the demo ask for it.
     *
     * @param acceptance the acceptance rule, given the model's hidden size (its default per-slot target)
     * @param pool       local candidate pool (select mode), or null for self-sampling or LLM mode ({@code llm} then required)
     * @param guidelines fixed guidelines (LLM mode); null re-brackets and re-extracts every round
     * @param tokenizer  {@code --tokenizer} (auto or byte)
     * @param selection  how selecting rounds choose ({@code --objective} and its flags); seeded by the corpus options' seed
     */
    public record Request(Path model, CorpusOptions corpus, String tokenizer, Path pool, Path guidelines, Path out, boolean overwrite,
                          LongFunction<AcceptanceParams> acceptance, Stop stop, int perRound, int maxCandidates, Path promptDir,
                          LlmOptions llm, int routeWindow, DeviceOptions device, SelectionOptions selection) {}

    /** Runs {@code r} with the session's model (loaded once per session) and writes the output directory and manifest. */
    public static Result run(Request r, Session session) {
        Progress progress = session.progress();
        CorpusOptions options = r.corpus();
        try (OutputDir dir = OutputDir.of("refine", r.out()).overwrite(r.overwrite()).input("--model", r.model())
                     .input("--corpus", options.corpus()).input("--pool", r.pool()).input("--guidelines", r.guidelines())
                     .input("--usage-corpus", r.selection().usageCorpus()).open()) {
            MoeModel m = session.model(r.model(), r.device()); // after the output check, so a bad --out fails before loading
            try (ModelTargetModel t = new ModelTargetModel(m, TextCodec.load(r.model(), r.tokenizer()), r.routeWindow())) {
                return run(r, session, dir, m, t, options, progress);
            }
        }
    }

    private static Result run(Request r, Session session, OutputDir dir, MoeModel m, ModelTargetModel t, CorpusOptions options, Progress progress) {
        {
            AcceptanceParams a = r.acceptance().apply(m.config().hiddenSize());
            SynthesizeParams s = null;
            if (r.pool() == null && r.selection().objective() != Objective.SELF_SAMPLE) {
                if (r.llm() == null) throw new RoutecalException("refine needs --pool, --objective self-sample, or --llm-base-url and --llm-model");
                s = new SynthesizeParams(dir.path(), r.guidelines(), 0, r.perRound(), r.maxCandidates(), options, 3, 900, options.seed(),
                        r.promptDir(), r.llm(), new LlmParams(0.85, 0.95, 2048, null, Map.of()), a);
            }
            RefineParams p = new RefineParams(dir.path(), options, r.pool(), s, a,
                    new StopRule(a.target(), r.stop().minEntropy(), r.stop().patience(), r.stop().maxRounds()), r.perRound(), r.selection());
            long t0 = System.nanoTime();
            Result res = run(p, t, t.moeLayerCount(), t.expertCount(), progress);
            Manifest.Builder b = Manifest.builder("refine").seed(options.seed()).model("model", r.model()).input("corpus", options.corpus())
                    .device(m.backend())
                    .parameters(options.parameters()).parameter("acceptance", SynthManifests.acceptance(a))
                    .parameter("stop_rule", p.stop()).parameter("per_round", r.perRound()).parameter("llm", SynthManifests.llm(r.llm(), null))
                    .parameters(p.selects() ? r.selection().parameters() : java.util.Map.of())
                    .results(res.corpus().summary()).result("rounds", res.rounds()).result("stop_reason", res.stopReason())
                    .result("deficit_start", res.deficitStart()).result("deficit_end", res.deficitEnd()).result("added", res.added())
                    .timing("refine", (System.nanoTime() - t0) / 1e9);
            if (r.pool() != null) b.input("pool", r.pool());
            if (r.guidelines() != null) b.input("guidelines", r.guidelines());
            if (r.selection().usageCorpus() != null) b.input("usage_corpus", r.selection().usageCorpus());
            SynthManifests.finish(dir, b, "compound.jsonl", "refine_metrics.jsonl", RefineChart.REPORT);
            return res;
        }
    }

    private record Added(String sampleId, String domain, String text, String source, int round) {}

    public static Result run(RefineParams p, TargetModel model, int layers, int experts, Progress progress) {
        if (p.selects() == (p.synthesize() != null)) {
            throw new RoutecalException("refine needs exactly one source of text: --pool (or --objective self-sample), or an LLM endpoint");
        }
        Corpus.Loaded loaded = Corpus.read(p.corpus(), model.codec());
        progress.message("corpus: " + loaded);
        List<Sample> original = loaded.samples();
        SelectStage.Usage measured = SelectStage.measure(original, model, layers, experts, progress);
        SelectStage.Usage usage = p.select().usageCorpus() == null ? measured
                : SelectStage.measure(Corpus.read(p.corpus().whole(p.select().usageCorpus()), model.codec()).samples(), model, layers, experts, progress);
        RoutingCounts originalCounts = measured.counts();
        List<Sample> pool = p.pool() == null ? List.of() : Corpus.read(p.corpus().whole(p.pool()), model.codec()).samples();
        SelectionState state = SelectionState.original(originalCounts, measured.domainTokens());
        RoutingCounts current = originalCounts.copy();
        long target = p.acceptance().target();
        // the objective selecting rounds lower (synthesize rounds: the deficit, which their acceptance rule lowers)
        ToDoubleFunction<SelectionState> objective = objectiveValue(p, usage, originalCounts);
        List<Long> deficits = new ArrayList<>(List.of(current.deficit(target)));
        List<Double> values = new ArrayList<>(List.of(objective.applyAsDouble(state)));
        List<Double> entropies = new ArrayList<>(List.of(current.minNormalizedEntropy()));
        List<Added> added = new ArrayList<>();
        Path metricsFile = p.outDir().resolve("refine_metrics.jsonl");
        AtomicFiles.writeString(metricsFile, ""); // a fresh run rewrites the per-round table
        try (Jsonl.Appender metrics = Jsonl.appender(metricsFile)) {
            metrics.append(metricsRow(0, "original", 0, added.size(), current, originalCounts, target, null, values.get(0)));
            String stop;
            int round = 0;
            while ((stop = p.stop().check(current, p.selects() ? values : deficits, round)) == null) {
                round++;
                long t0 = System.nanoTime();
                Path roundDir = p.outDir().resolve("round_" + round);
                int before = added.size();
                String source;
                if (p.selects()) {
                    boolean selfSample = p.select().objective() == Objective.SELF_SAMPLE;
                    source = selfSample ? "self-sample" : "select";
                    Set<String> taken = new HashSet<>();
                    added.forEach(a -> taken.add(a.sampleId()));
                    List<Sample> remaining = pool.stream().filter(c -> !taken.contains("selected/" + c.sampleId())).toList();
                    if (remaining.isEmpty() && !selfSample) { stop = "pool_exhausted"; round--; break; }
                    List<Sample> reference = new ArrayList<>(original);
                    added.forEach(a -> reference.add(new Sample(a.sampleId(), a.domain(), a.text(), model.codec().encode(a.text()))));
                    // each round's draw and self-sampling get their own seed, so rounds do not repeat each other
                    SelectStage.Options roundOptions = new SelectStage.Options(p.select(), p.acceptance(), p.perRound(), p.corpus().seed() + round - 1);
                    SelectStage.Result r = SelectStage.run(reference, originalCounts, state, usage, remaining, model, roundOptions, roundDir, progress);
                    state = r.state();
                    current = r.counts();
                    for (var n : Jsonl.readObjects(roundDir.resolve("selected_accepted.jsonl"))) {
                        added.add(new Added(n.get("sample_id").asText(), n.get("domain").asText(), n.get("text").asText(), source, round));
                    }
                } else {
                    source = "synthesize";
                    SynthesizeParams s = p.synthesize();
                    Path guidelines = s.guidelinesDir() != null ? s.guidelinesDir()
                            : reExtract(p, model, original, added, current, target, roundDir, progress);
                    SynthesizeParams sp = new SynthesizeParams(p.outDir(), guidelines, round, p.perRound(), s.maxCandidatesPerCombo(),
                            p.corpus(), s.fewShot(), s.fewShotChars(), s.seed(), s.promptDir(), s.llm(), s.llmParams(), p.acceptance());
                    SynthesizeStage.Result r = SynthesizeStage.run(sp, model, originalCounts, current, progress);
                    current = r.counts();
                    for (SyntheticRow row : SyntheticRow.readLog(r.log())) {
                        if (row.round() == round && row.accepted()) {
                            added.add(new Added("synthetic/" + row.key(), row.domain(), row.text(), "synthetic", round));
                        }
                    }
                }
                deficits.add(current.deficit(target));
                values.add(p.selects() ? objective.applyAsDouble(state) : (double) current.deficit(target));
                entropies.add(current.minNormalizedEntropy());
                writeCompound(p.outDir(), original, added);
                ObjectNode row = metricsRow(round, source, added.size() - before, added.size(), current, originalCounts, target, null,
                        values.get(values.size() - 1));
                metrics.append(row);
                writeManifest(roundDir, p, round, source, row, (System.nanoTime() - t0) / 1e9);
                progress.message(String.format(Locale.ROOT, "round %d: +%d texts, deficit %d, objective %.5f, min entropy %.4f",
                        round, added.size() - before, deficits.get(deficits.size() - 1), values.get(values.size() - 1),
                        entropies.get(entropies.size() - 1)));
                if (p.selects() && added.size() == before) {
                    stop = "no_gain"; // nothing was accepted: the next round would offer the same pool to the same corpus
                    break;
                }
            }
            metrics.append(metricsRow(round, "stop", 0, added.size(), current, originalCounts, target, stop, values.get(values.size() - 1)));
            writeCompound(p.outDir(), original, added);
            RefineChart.write(p.outDir(), deficits, entropies, target);
            return new Result(round, stop, deficits.get(0), deficits.get(deficits.size() - 1), entropies.get(0),
                    entropies.get(entropies.size() - 1), added.size(), p.outDir(), originalCounts, loaded);
        }
    }

    /** The objective value of a corpus state: the selection objective's for selecting rounds, the deficit otherwise. */
    private static ToDoubleFunction<SelectionState> objectiveValue(RefineParams p, SelectStage.Usage usage, RoutingCounts originalCounts) {
        if (!p.selects() || p.select().objective() == Objective.DEFICIT) {
            DeficitObjective d = new DeficitObjective(p.acceptance(), originalCounts);
            return d::value;
        }
        UsageObjective u = new UsageObjective(usage.counts(), usage.domainTokens(), p.acceptance().target(), p.select().maxDomainDrift(),
                p.acceptance().maxAddedTokenRatio());
        return u::value;
    }

    /**
     * Brackets the corpus as it stands against the current deficit (balance mode) and extracts fresh guidelines from it,
     * so each round's prompts describe the slots still short, not those of round 1.
     */
    private static Path reExtract(RefineParams p, TargetModel model, List<Sample> original, List<Added> added,
                                  RoutingCounts current, long target, Path roundDir, Progress progress) {
        List<ObjectNode> rows = new ArrayList<>();
        List<String[]> all = new ArrayList<>(); // sample_id, domain, text
        original.forEach(c -> all.add(new String[]{c.sampleId(), c.domain(), c.text()}));
        added.forEach(a -> all.add(new String[]{a.sampleId(), a.domain(), a.text()}));
        for (String[] c : all) {
            org.routecal.route.Brackets.Tagged t = model.bracket(c[2], current, target);
            rows.add(Json.MAPPER.createObjectNode().put("domain", c[1]).put("sample_id", c[0]).put("mode", "balance")
                    .put("n_tokens_total", t.tokens()).put("n_tokens_blue", t.blueTokens()).put("n_tokens_red", t.redTokens())
                    .put("text", t.text()));
        }
        Path bracketed = roundDir.resolve("bracketed_balance.jsonl");
        Jsonl.write(bracketed, rows);
        SynthesizeParams s = p.synthesize();
        org.routecal.synth.extract.ExtractStage.run(new org.routecal.synth.extract.ExtractParams(List.of(bracketed), roundDir, Set.of(),
                8, 1500, 3, 3, 25, s.seed(), s.promptDir(), s.llm(),
                new org.routecal.synth.llm.LlmParams(0.6, null, 4096, null, java.util.Map.of())), progress);
        return roundDir.resolve("guidelines");
    }

    private static ObjectNode metricsRow(int round, String source, int addedThisRound, int addedTotal, RoutingCounts c,
                                         RoutingCounts original, long target, String stop, double objective) {
        ObjectNode n = Json.MAPPER.createObjectNode().put("round", round).put("source", source)
                .put("added", addedThisRound).put("added_total", addedTotal).put("tokens", c.tokens())
                .put("deficit", c.deficit(target)).put("slots_below_target", c.slotsBelow(target)).put("min_count", c.minCount())
                .put("min_entropy", c.minNormalizedEntropy()).put("mean_entropy", c.meanNormalizedEntropy()).put("js_drift", c.meanJsDivergence(original))
                .put("objective_value", objective);
        if (stop != null) n.put("stop_reason", stop);
        return n;
    }

    private static void writeCompound(Path dir, List<Sample> original, List<Added> added) {
        try (CorpusWriter w = CorpusWriter.open(dir.resolve("compound.jsonl"))) {
            for (Sample c : original) w.writeText(c.sampleId(), c.domain(), c.text(), Map.of("source", "original", "round", 0));
            for (Added a : added) w.writeText(a.sampleId(), a.domain(), a.text(), Map.of("source", a.source(), "round", a.round()));
        }
    }

    /** The manifest of one round (inputs, parameters and the round's metrics row as results). */
    private static void writeManifest(Path roundDir, RefineParams p, int round, String source, ObjectNode metrics, double seconds) {
        Manifest.Builder m = Manifest.builder("refine").input("corpus", p.corpus().corpus());
        if (p.pool() != null) m.input("pool", p.pool());
        m.parameters(p.corpus().parameters()).parameter("round", round).parameter("source", source)
                .parameter("acceptance", SynthManifests.acceptance(p.acceptance())).parameter("stop_rule", p.stop())
                .parameter("per_round", p.perRound());
        if (p.selects()) m.parameters(p.select().parameters()).seed(p.corpus().seed() + round - 1);
        if (p.synthesize() != null) {
            m.parameter("llm", SynthManifests.llm(p.synthesize().llm(), p.synthesize().llmParams()))
                    .parameter("guidelines", p.synthesize().guidelinesDir() == null
                            ? "round_" + round + "/guidelines (re-extracted)" : p.synthesize().guidelinesDir().toString())
                    .seed(p.synthesize().seed());
        }
        m.results(Json.MAPPER.convertValue(metrics, Map.class)).timing("round", seconds);
        m.output("compound", p.outDir().resolve("compound.jsonl"), p.outDir()).output("metrics", p.outDir().resolve("refine_metrics.jsonl"), p.outDir());
        m.build().write(roundDir.resolve("manifest.json"));
    }
}
