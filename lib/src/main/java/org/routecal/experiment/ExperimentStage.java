package org.routecal.experiment;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.routecal.RoutecalException;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.corpus.CorpusWriter;
import org.routecal.corpus.Sample;
import org.routecal.eval.EvalStatistics;
import org.routecal.eval.EvaluateStage;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;
import org.routecal.io.Jsonl;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Progress;
import org.routecal.quant.MoeMode;
import org.routecal.quant.QuantizeOptions;
import org.routecal.quant.QuantizeStage;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.report.HtmlReport;
import org.routecal.route.RoutingCounts;
import org.routecal.session.Session;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.accept.SelectionState;
import org.routecal.synth.accept.UsageObjective;
import org.routecal.synth.select.Objective;
import org.routecal.synth.select.SelectStage;
import org.routecal.synth.select.SelectionOptions;
import org.routecal.synth.select.SelfSampler;
import org.routecal.tokenize.TextCodec;

/**
 * {@code routecal experiment}: does routing-aware calibration data pay on this model? One session, the model loaded
 * once; every step is a typed stage call. Phases:
 * <ol>
 *   <li><b>sets</b>: the original corpus alone, and for every objective × seed the original plus the same token budget
 *       of added text ({@link SelectStage} over a seeded share of the pool, or self-sampling) → {@code sets/*.jsonl}
 *       with each selection's files in {@code sets/<set>-s<seed>/};</li>
 *   <li><b>quantize</b>: every set × MoE mode × scheme with GPTQ (sequential, symmetric, {@code groupSize})
 *       ({@link QuantizeStage}) → {@code quantized/<set>[-s<seed>]-<mode>-<scheme>/} (removed after evaluation unless
 *       kept);</li>
 *   <li><b>evaluate</b>: every checkpoint on the held-out samples in one pass of the original ({@link EvaluateStage},
 *       {@code eval/}: per checkpoint intervals and per-sample rows);</li>
 *   <li><b>table</b>: sets × modes × schemes with bootstrap intervals, seed-averaged per sample, and paired differences
 *       against the baseline set → {@code experiment.json}, {@code experiment.html}, {@code experiment.md}.</li>
 * </ol>
 */
public final class ExperimentStage {
    private ExperimentStage() {}

    /** The set name of the original corpus alone. */
    public static final String ORIGINAL = "original";

    /**
     * An experiment as the CLI gives it.
     *
     * @param corpus           the original calibration corpus (text rows with domains) and how it is read; the pool and the
     *                         held-out samples are read the same way, whole
     * @param pool             candidate texts the selection objectives and the stratified draw choose from
     * @param heldout          evaluation samples (never selected)
     * @param tokenizer        {@code --tokenizer} (auto or byte)
     * @param objectives       the calibration sets beside {@code original}: one per objective (stratified = "more of the same")
     * @param seeds            calibration seeds: each draws its own pool subset ({@code poolFraction}) and seeds the
     *                         stratified order and self-sampling, so every non-original set is made once per seed
     * @param modes            MoE calibration modes of quantize (routed, all, weighted, hybrid)
     * @param schemes          int weight schemes (w4a16, w3a16, …), symmetric, {@code groupSize} columns per scale
     * @param budgetRatio      tokens added to the original corpus, as a multiple of its tokens (the same for every set)
     * @param poolFraction     share of the pool each seed may choose from (1: the whole pool, then greedy sets repeat)
     * @param heldoutMaxTokens evaluation samples cut to N tokens (at a boundary when there is one; 0: whole)
     * @param statistics       bootstrap settings of the intervals (its baseline is unused: {@code baseline} is a set)
     * @param baseline         the set every other one is compared with, paired (stratified: "more of the same")
     */
    public record Request(Path model, CorpusOptions corpus, Path pool, Path heldout, String tokenizer, Path out, boolean overwrite,
                          List<Objective> objectives, List<Long> seeds, List<String> modes, List<String> schemes, int groupSize,
                          double budgetRatio, double poolFraction, int heldoutMaxTokens, double maxDomainDrift, SelfSampler.Params selfSample,
                          EvalStatistics.Options statistics, String baseline, boolean keepCheckpoints, DeviceOptions device) {}

    /** The outcome; its text is the table. */
    public record Result(Path out, ExperimentTable table, Map<String, Double> timings) {
        @Override public String toString() {
            StringBuilder sb = new StringBuilder(table.toMarkdown());
            sb.append("ranking by mean ΔNLL (over modes and schemes): ").append(table.ranking()).append('\n');
            sb.append("timings (s): ").append(timings).append('\n');
            return sb.append(out).append("/{experiment.html,experiment.json,experiment.md}").toString();
        }
    }

    /** Runs {@code r} in {@code session} (the model loaded once) into a staged output directory. */
    public static Result run(Request r, Session session) {
        try (OutputDir run = OutputDir.of("experiment", r.out()).overwrite(r.overwrite()).input("--model", r.model())
                .input("--corpus", r.corpus().corpus()).input("--pool", r.pool()).input("--heldout", r.heldout()).open()) {
            Result res;
            try (TextCodec codec = TextCodec.load(r.model(), r.tokenizer())) {
                res = runIn(r, session, run, codec);
            }
            run.commit();
            return new Result(run.target(), res.table(), res.timings());
        }
    }

    private static Result runIn(Request r, Session session, OutputDir run, TextCodec codec) {
        long t0 = System.nanoTime();
        Progress progress = session.progress();
        Path out = run.path();
        Map<String, Double> timings = new LinkedHashMap<>();
        MoeModel model = session.model(r.model(), r.device());
        ModelTargetModel target = new ModelTargetModel(model, codec, model.config().maxPositionEmbeddings());
        Corpus.Loaded loaded = Corpus.read(r.corpus(), codec);
        progress.message("corpus: " + loaded);
        List<Sample> original = loaded.samples(), pool = Corpus.read(r.corpus().whole(r.pool()), codec).samples();

        // 1. calibration sets
        long t = System.nanoTime();
        SelectStage.Usage usage = SelectStage.measure(original, target, target.moeLayerCount(), target.expertCount(), progress);
        long budget = Math.round(r.budgetRatio() * usage.counts().tokens());
        long width = model.config().hiddenSize();
        AcceptanceParams acceptance = new AcceptanceParams(width, 0, AcceptanceParams.DEFAULT_MAX_CANDIDATE_JS,
                AcceptanceParams.DEFAULT_MAX_CORPUS_DRIFT_JS, 0);
        UsageObjective measureJ = new UsageObjective(usage.counts(), usage.domainTokens(), width, 1, 0);
        Map<String, ExperimentTable.Coverage> coverage = new LinkedHashMap<>();
        Map<String, Path> setFiles = new LinkedHashMap<>(); // coverage key → calibration corpus
        Path sets = out.resolve("sets");
        setFiles.put(ExperimentTable.key(ORIGINAL, null), writeSet(sets.resolve(ORIGINAL + ".jsonl"), original, List.of()));
        coverage.put(ExperimentTable.key(ORIGINAL, null), coverage(usage.counts(), measureJ));
        for (Objective objective : r.objectives()) {
            for (long seed : r.seeds()) {
                session.checkCancelled();
                String name = objective.id() + "-s" + seed;
                progress.message("calibration set " + name);
                Path dir = sets.resolve(name);
                SelectStage.Options o = new SelectStage.Options(new SelectionOptions(objective, null, budget, r.maxDomainDrift(), r.selfSample()),
                        acceptance, 0, seed);
                SelectStage.Result s = SelectStage.run(original, usage.counts(), SelectionState.original(usage.counts(), usage.domainTokens()),
                        usage, subset(pool, r.poolFraction(), seed), target, o, dir, progress);
                List<Sample> added = new ArrayList<>();
                for (ObjectNode n : Jsonl.readObjects(dir.resolve("selected_accepted.jsonl"))) {
                    String text = n.get("text").asText();
                    added.add(new Sample(n.get("sample_id").asText(), n.get("domain").asText(), text, codec.encode(text)));
                }
                setFiles.put(ExperimentTable.key(objective.id(), seed), writeSet(sets.resolve(name + ".jsonl"), original, added));
                coverage.put(ExperimentTable.key(objective.id(), seed), coverage(s.counts(), measureJ));
            }
        }
        timings.put("sets", secs(t));

        // 2. quantize every set × mode × scheme on the one loaded model (quantize restores its weights when done)
        t = System.nanoTime();
        List<ExperimentTable.Run> runs = new ArrayList<>();
        List<Path> checkpoints = new ArrayList<>();
        int total = setFiles.size() * r.modes().size() * r.schemes().size(), done = 0;
        for (Map.Entry<String, Path> set : setFiles.entrySet()) {
            String[] key = set.getKey().split("/");
            Long seed = key[1].equals("-") ? null : Long.parseLong(key[1]);
            for (String mode : r.modes()) {
                for (String scheme : r.schemes()) {
                    session.checkCancelled();
                    String name = key[0] + (seed == null ? "" : "-s" + seed) + "-" + mode + "-" + scheme;
                    progress.message(String.format(Locale.ROOT, "quantize %d/%d: %s", ++done, total, name));
                    Path q = out.resolve("quantized").resolve(name);
                    QuantizeOptions qo;
                    try {
                        qo = new QuantizeOptions(scheme, true, r.groupSize(), false, true, GptqArgs.DEFAULT, MoeMode.parse(mode), 0.5, 32, true,
                                true, null, false);
                    } catch (IllegalArgumentException e) {
                        throw new RoutecalException("experiment: " + e.getMessage());
                    }
                    // the set file holds rendered, cut samples: read whole, they come back exactly as selected
                    QuantizeStage.run(new QuantizeStage.Request(r.model(), r.corpus().whole(set.getValue()), r.tokenizer(), q, qo, r.device()),
                            session);
                    runs.add(new ExperimentTable.Run(key[0], seed, mode, scheme, name));
                    checkpoints.add(q);
                }
            }
        }
        timings.put("quantize", secs(t));

        // 3. every checkpoint on the held-out samples, one pass of the original
        t = System.nanoTime();
        CorpusOptions heldout = r.corpus().whole(r.heldout()).withDedup(true).withMaxTokensPerSample(r.heldoutMaxTokens());
        EvaluateStage.Result eval = EvaluateStage.run(new EvaluateStage.Request(r.model(), checkpoints, heldout, r.tokenizer(), out.resolve("eval"),
                false, r.device(), r.statistics()), session);
        timings.put("evaluate", secs(t));
        for (Path q : checkpoints) {
            session.unload(q);
            if (!r.keepCheckpoints()) deleteCheckpoint(q, out);
        }

        // 4. the table
        ExperimentTable table = ExperimentTable.build(runs, eval.statistics().rows(), coverage, r.statistics(), r.baseline());
        timings.put("total", secs(t0));
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("format", "routecal.experiment");
        root.put("format_version", 1);
        ObjectNode params = root.putObject("parameters");
        params.put("model", r.model().toString()).put("corpus", r.corpus().corpus().toString()).put("pool", r.pool().toString())
                .put("heldout", r.heldout().toString()).put("budget_tokens", budget).put("original_tokens", usage.counts().tokens())
                .put("budget_ratio", r.budgetRatio()).put("pool_fraction", r.poolFraction()).put("group_size", r.groupSize())
                .put("heldout_samples", eval.samples()).put("heldout_max_tokens", r.heldoutMaxTokens()).put("max_domain_drift", r.maxDomainDrift())
                .put("width", width);
        params.set("objectives", Json.MAPPER.valueToTree(r.objectives().stream().map(Objective::id).toList()));
        params.set("seeds", Json.MAPPER.valueToTree(r.seeds()));
        params.set("modes", Json.MAPPER.valueToTree(r.modes()));
        params.set("schemes", Json.MAPPER.valueToTree(r.schemes()));
        params.set("self_sample", Json.MAPPER.valueToTree(r.selfSample()));
        root.set("table", table.toJson(Json.MAPPER));
        root.set("coverage", Json.MAPPER.valueToTree(coverage));
        root.set("timings_s", Json.MAPPER.valueToTree(timings));
        AtomicFiles.writeJson(out.resolve("experiment.json"), root);
        AtomicFiles.writeString(out.resolve("experiment.md"), table.toMarkdown());
        HtmlReport.titled("routecal experiment").text(describe(r, budget, usage, eval.samples())).table(table.toTable())
                .text(String.format(Locale.ROOT, "Intervals: %.0f%% percentile bootstrap over the held-out samples (%d resamples, stratified "
                        + "by domain); sets with several seeds are averaged per sample before resampling; * = the paired interval excludes "
                        + "zero. Ranking by mean ΔNLL: %s", 100 * r.statistics().confidence(), r.statistics().resamples(), table.ranking()))
                .write(out.resolve("experiment.html"));
        Manifest.Builder m = Manifest.builder("experiment").parameters(r.corpus().parameters()).parameter("budget_tokens", budget)
                .parameter("budget_ratio", r.budgetRatio()).parameter("pool_fraction", r.poolFraction()).parameter("seeds", r.seeds())
                .parameter("modes", r.modes()).parameter("schemes", r.schemes()).parameter("group_size", r.groupSize())
                .parameter("objectives", r.objectives().stream().map(Objective::id).toList()).parameter("max_domain_drift", r.maxDomainDrift())
                .parameter("heldout_max_tokens", r.heldoutMaxTokens()).parameter("baseline", r.baseline())
                .parameter("bootstrap", r.statistics().resamples()).parameter("bootstrap_seed", r.statistics().seed())
                .parameter("confidence", r.statistics().confidence()).results(loaded.summary()).device(session.backend());
        m.model("model", r.model()).input("corpus", r.corpus().corpus()).input("pool", r.pool()).input("heldout", r.heldout());
        timings.forEach(m::timing);
        m.output("table", out.resolve("experiment.json"), out).output("report", out.resolve("experiment.html"), out);
        run.writeManifest(m.build());
        return new Result(out, table, timings);
    }

    private static String describe(Request r, long budget, SelectStage.Usage usage, int heldout) {
        return String.format(Locale.ROOT, "Model %s; original corpus %s (%d tokens); every other set adds %d tokens (%.2f×) from %s (%.0f%% "
                + "of it per seed) or by self-sampling; %d held-out samples from %s; GPTQ, group %d, symmetric.", r.model(),
                r.corpus().corpus(), usage.counts().tokens(), budget, r.budgetRatio(), r.pool(), 100 * r.poolFraction(), heldout, r.heldout(),
                r.groupSize());
    }

    /** A seeded share of the pool (the whole pool when {@code fraction} ≥ 1), in pool order. */
    static List<Sample> subset(List<Sample> pool, double fraction, long seed) {
        if (fraction >= 1) return pool;
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < pool.size(); i++) idx.add(i);
        Collections.shuffle(idx, new Random(seed));
        List<Integer> keep = new ArrayList<>(idx.subList(0, (int) Math.round(fraction * pool.size())));
        Collections.sort(keep);
        return keep.stream().map(pool::get).toList();
    }

    private static ExperimentTable.Coverage coverage(RoutingCounts c, UsageObjective j) {
        return new ExperimentTable.Coverage(c.tokens(), c.minCount(), c.meanNormalizedEntropy(), j.expectedError(c));
    }

    private static Path writeSet(Path file, List<Sample> original, List<Sample> added) {
        List<Sample> all = new ArrayList<>(original);
        all.addAll(added);
        CorpusWriter.writeAll(file, all);
        return file;
    }

    /** Deletes a checkpoint this run wrote (refuses anything outside the run directory). */
    private static void deleteCheckpoint(Path dir, Path runDir) {
        Path d = dir.toAbsolutePath().normalize();
        if (!d.startsWith(runDir.toAbsolutePath().normalize())) throw new IllegalStateException(d + " is not inside " + runDir);
        AtomicFiles.deleteTree(d);
    }

    private static double secs(long t0) { return Math.round((System.nanoTime() - t0) / 1e7) / 100.0; }
}
