package org.routecal.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.routecal.RoutecalException;
import org.routecal.compute.DeviceOptions;
import org.routecal.corpus.CorpusOptions;
import org.routecal.eval.CalibrationCorpus;
import org.routecal.eval.EvalSample;
import org.routecal.eval.EvaluateStage;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Jsonl;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.Progress;
import org.routecal.pipeline.RunDir;
import org.routecal.pipeline.Session;
import org.routecal.quant.MoeMode;
import org.routecal.quant.QuantizeOptions;
import org.routecal.quant.QuantizeStage;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.report.Html;
import org.routecal.report.HtmlReport;
import org.routecal.serve.Codecs;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.accept.RoutingCounts;
import org.routecal.synth.accept.SelectionState;
import org.routecal.synth.accept.UsageObjective;
import org.routecal.synth.select.CandidatePool;
import org.routecal.synth.select.Objective;
import org.routecal.synth.select.SelectStage;

/**
 * {@code routecal experiment}: does routing-aware calibration data pay on this model? One session, the model loaded
 * once. Phases:
 * <ol>
 *   <li><b>sets</b>: the original corpus alone, and for every objective × seed the original plus the same token budget
 *       of added text ({@code select} over a seeded share of the pool, or self-sampling) → {@code sets/*.jsonl} with
 *       each selection's files in {@code sets/<set>-s<seed>/};</li>
 *   <li><b>quantize</b>: every set × MoE mode × scheme with GPTQ (sequential, symmetric, {@code groupSize}) →
 *       {@code quantized/<set>[-s<seed>]-<mode>-<scheme>/} (removed after evaluation unless kept);</li>
 *   <li><b>evaluate</b>: every checkpoint on the held-out samples in one pass of the original ({@code eval/}: per
 *       checkpoint intervals and per-sample rows);</li>
 *   <li><b>table</b>: sets × modes × schemes with bootstrap intervals, seed-averaged per sample, and paired differences
 *       against the baseline set → {@code experiment.json}, {@code experiment.html}, {@code experiment.md}.</li>
 * </ol>
 */
public final class ExperimentStage {
    private ExperimentStage() {}

    /** The outcome; its text is the table. */
    public record Result(Path out, ExperimentTable table, Map<String, Double> timings) {
        @Override public String toString() {
            StringBuilder sb = new StringBuilder(table.toMarkdown());
            sb.append("ranking by mean ΔNLL (over modes and schemes): ").append(table.ranking()).append('\n');
            sb.append("timings (s): ").append(timings).append('\n');
            return sb.append(out).append("/{experiment.html,experiment.json,experiment.md}").toString();
        }
    }

    public static Result run(ExperimentParams p, Session session, DeviceOptions device) {
        long t0 = System.nanoTime();
        Progress progress = session.progress();
        RunDir run = RunDir.create(p.out(), p.overwrite());
        Path out = run.path();
        Map<String, Double> timings = new LinkedHashMap<>();
        MoeModel model = session.model(p.model(), device);
        ModelTargetModel target = new ModelTargetModel(model, Codecs.load(p.model(), "auto"), model.config().maxPositionEmbeddings());
        List<CandidatePool.Candidate> original = CandidatePool.read(p.corpus(), target), pool = CandidatePool.read(p.pool(), target);

        // 1. calibration sets
        long t = System.nanoTime();
        SelectStage.Usage usage = SelectStage.measure(original, target, target.moeLayerCount(), target.expertCount(), progress);
        long budget = Math.round(p.budgetRatio() * usage.counts().tokens());
        long width = model.config().hiddenSize();
        AcceptanceParams acceptance = new AcceptanceParams(width, 0, AcceptanceParams.DEFAULT_MAX_CANDIDATE_JS,
                AcceptanceParams.DEFAULT_MAX_CORPUS_DRIFT_JS, 0);
        UsageObjective measureJ = new UsageObjective(usage.counts(), usage.domainTokens(), width, 1, 0);
        Map<String, ExperimentTable.Coverage> coverage = new LinkedHashMap<>();
        Map<String, Path> setFiles = new LinkedHashMap<>(); // coverage key → calibration corpus
        Path sets = out.resolve("sets");
        setFiles.put(ExperimentTable.key(ExperimentParams.ORIGINAL, null), writeSet(sets.resolve("original.jsonl"), original, List.of()));
        coverage.put(ExperimentTable.key(ExperimentParams.ORIGINAL, null), coverage(usage.counts(), measureJ));
        for (Objective objective : p.objectives()) {
            for (long seed : p.seeds()) {
                session.checkCancelled();
                String name = objective.id() + "-s" + seed;
                progress.message("calibration set " + name);
                Path dir = sets.resolve(name);
                SelectStage.Options o = new SelectStage.Options(objective, acceptance, p.maxDomainDrift(), 0, budget, p.maxTokensPerSample(),
                        seed, p.selfSample());
                SelectStage.Result r = SelectStage.run(original, usage.counts(), SelectionState.original(usage.counts(), usage.domainTokens()),
                        usage, subset(pool, p.poolFraction(), seed), target, o, dir, progress);
                List<CandidatePool.Candidate> added = new ArrayList<>();
                for (var n : Jsonl.read(dir.resolve("selected_accepted.jsonl"))) {
                    added.add(new CandidatePool.Candidate(n.get("sample_id").asText(), n.get("domain").asText(), n.get("text").asText()));
                }
                setFiles.put(ExperimentTable.key(objective.id(), seed), writeSet(sets.resolve(name + ".jsonl"), original, added));
                coverage.put(ExperimentTable.key(objective.id(), seed), coverage(r.counts(), measureJ));
            }
        }
        timings.put("sets", secs(t));

        // 2. quantize every set × mode × scheme on the one loaded model (quantize restores its weights layer by layer)
        t = System.nanoTime();
        List<ExperimentTable.Run> runs = new ArrayList<>();
        List<EvaluateStage.Candidate> checkpoints = new ArrayList<>();
        int total = setFiles.size() * p.modes().size() * p.schemes().size(), done = 0;
        for (Map.Entry<String, Path> set : setFiles.entrySet()) {
            String[] key = set.getKey().split("/");
            Long seed = key[1].equals("-") ? null : Long.parseLong(key[1]);
            List<int[]> calibration = CalibrationCorpus.load(CorpusOptions.of(set.getValue()), p.model()).stream().map(EvalSample::ids).toList();
            for (String mode : p.modes()) {
                for (String scheme : p.schemes()) {
                    session.checkCancelled();
                    String name = key[0] + (seed == null ? "" : "-s" + seed) + "-" + mode + "-" + scheme;
                    progress.message(String.format(Locale.ROOT, "quantize %d/%d: %s", ++done, total, name));
                    Path q = out.resolve("quantized").resolve(name);
                    QuantizeOptions qo;
                    try {
                        qo = new QuantizeOptions(scheme, true, p.groupSize(), false, true, GptqArgs.DEFAULT, MoeMode.parse(mode), 0.5, 32, true,
                                true, null, false);
                    } catch (IllegalArgumentException e) {
                        throw new RoutecalException("experiment: " + e.getMessage());
                    }
                    Map<String, Object> inputs = new LinkedHashMap<>();
                    inputs.put("corpus", set.getValue().toString());
                    QuantizeStage.run(model, calibration, qo, q, inputs, Progress.NONE, session::checkCancelled);
                    runs.add(new ExperimentTable.Run(key[0], seed, mode, scheme, name));
                    checkpoints.add(new EvaluateStage.Candidate(name, q, session.model(q, device)));
                }
            }
        }
        timings.put("quantize", secs(t));

        // 3. every checkpoint on the held-out samples, one pass of the original
        t = System.nanoTime();
        List<EvalSample> heldout = CalibrationCorpus.load(CorpusOptions.of(p.heldout()), p.model()).stream()
                .map(s -> p.heldoutMaxTokens() > 0 && s.ids().length > p.heldoutMaxTokens()
                        ? new EvalSample(s.sampleId(), s.domain(), java.util.Arrays.copyOf(s.ids(), p.heldoutMaxTokens())) : s).toList();
        EvaluateStage.Result eval = EvaluateStage.run(model, checkpoints, heldout, out.resolve("eval"), false, p.statistics(), progress,
                session::checkCancelled);
        timings.put("evaluate", secs(t));
        for (EvaluateStage.Candidate c : checkpoints) {
            session.unload(c.path());
            if (!p.keepCheckpoints()) deleteTree(c.path(), out);
        }

        // 4. the table
        ExperimentTable table = ExperimentTable.build(runs, eval.statistics().rows(), coverage, p.statistics(), p.baseline());
        timings.put("total", secs(t0));
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("format", "routecal.experiment");
        root.put("format_version", 1);
        ObjectNode params = root.putObject("parameters");
        params.put("model", p.model().toString()).put("corpus", p.corpus().toString()).put("pool", p.pool().toString())
                .put("heldout", p.heldout().toString()).put("budget_tokens", budget).put("original_tokens", usage.counts().tokens())
                .put("budget_ratio", p.budgetRatio()).put("pool_fraction", p.poolFraction()).put("group_size", p.groupSize())
                .put("heldout_samples", heldout.size()).put("heldout_max_tokens", p.heldoutMaxTokens()).put("max_domain_drift", p.maxDomainDrift())
                .put("width", width);
        params.set("objectives", json.valueToTree(p.objectives().stream().map(Objective::id).toList()));
        params.set("seeds", json.valueToTree(p.seeds()));
        params.set("modes", json.valueToTree(p.modes()));
        params.set("schemes", json.valueToTree(p.schemes()));
        params.set("self_sample", json.valueToTree(p.selfSample()));
        root.set("table", table.toJson(json));
        root.set("coverage", json.valueToTree(coverage));
        root.set("timings_s", json.valueToTree(timings));
        AtomicFiles.writeJson(out.resolve("experiment.json"), root);
        AtomicFiles.writeString(out.resolve("experiment.md"), table.toMarkdown());
        HtmlReport.writePage(out.resolve("experiment.html"), HtmlReport.page("routecal experiment", describe(p, budget, usage, heldout.size())
                + table.toHtml() + "<p>Intervals: " + Html.escape(String.format(Locale.ROOT, "%.0f%% percentile bootstrap over the held-out samples "
                + "(%d resamples, stratified by domain); sets with several seeds are averaged per sample before resampling; * = the paired "
                + "interval excludes zero. Ranking by mean ΔNLL: %s", 100 * p.statistics().confidence(), p.statistics().resamples(), table.ranking()))
                + "</p>", false));
        Manifest.Builder m = Manifest.builder("experiment").parameter("budget_tokens", budget).parameter("seeds", p.seeds())
                .parameter("modes", p.modes()).parameter("schemes", p.schemes()).parameter("objectives", p.objectives().stream().map(Objective::id).toList());
        m.input("model", p.model(), false).input("corpus", p.corpus()).input("pool", p.pool()).input("heldout", p.heldout());
        timings.forEach(m::timing);
        m.output("table", out.resolve("experiment.json"), run).output("report", out.resolve("experiment.html"), run);
        run.writeManifest(m.build());
        return new Result(out, table, timings);
    }

    private static String describe(ExperimentParams p, long budget, SelectStage.Usage usage, int heldout) {
        return "<p>" + Html.escape(String.format(Locale.ROOT, "Model %s; original corpus %s (%d tokens); every other set adds %d tokens "
                + "(%.2f×) from %s (%.0f%% of it per seed) or by self-sampling; %d held-out samples from %s; GPTQ, group %d, symmetric.",
                p.model(), p.corpus(), usage.counts().tokens(), budget, p.budgetRatio(), p.pool(), 100 * p.poolFraction(), heldout, p.heldout(),
                p.groupSize())) + "</p>";
    }

    /** A seeded share of the pool (the whole pool when {@code fraction} ≥ 1), in pool order. */
    static List<CandidatePool.Candidate> subset(List<CandidatePool.Candidate> pool, double fraction, long seed) {
        if (fraction >= 1) return pool;
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < pool.size(); i++) idx.add(i);
        Collections.shuffle(idx, new Random(seed));
        List<Integer> keep = new ArrayList<>(idx.subList(0, (int) Math.round(fraction * pool.size())));
        Collections.sort(keep);
        return keep.stream().map(pool::get).toList();
    }

    private static ExperimentTable.Coverage coverage(RoutingCounts c, UsageObjective j) {
        double h = 0;
        for (int l = 0; l < c.layers(); l++) h += c.normalizedEntropy(l);
        return new ExperimentTable.Coverage(c.tokens(), c.minCount(), c.layers() == 0 ? 0 : h / c.layers(), j.expectedError(c));
    }

    private static Path writeSet(Path file, List<CandidatePool.Candidate> original, List<CandidatePool.Candidate> added) {
        List<Map<String, String>> rows = new ArrayList<>();
        for (CandidatePool.Candidate c : original) rows.add(Map.of("sample_id", c.id(), "domain", c.domain(), "text", c.text()));
        for (CandidatePool.Candidate c : added) rows.add(Map.of("sample_id", c.id(), "domain", c.domain(), "text", c.text()));
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new RoutecalException(file.getParent() + ": cannot create: " + e.getMessage(), e);
        }
        Jsonl.write(file, rows);
        return file;
    }

    /** Deletes a checkpoint this run wrote (refuses anything outside the run directory). */
    private static void deleteTree(Path dir, Path runDir) {
        Path d = dir.toAbsolutePath().normalize();
        if (!d.startsWith(runDir.toAbsolutePath().normalize())) throw new IllegalStateException(d + " is not inside " + runDir);
        try (var s = Files.walk(d)) {
            for (Path f : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) Files.delete(f);
        } catch (IOException e) {
            throw new RoutecalException(d + ": cannot delete: " + e.getMessage(), e);
        }
    }

    private static double secs(long t0) { return Math.round((System.nanoTime() - t0) / 1e7) / 100.0; }
}
