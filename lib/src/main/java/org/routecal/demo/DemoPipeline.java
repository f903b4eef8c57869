package org.routecal.demo;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.corpus.Sample;
import org.routecal.io.Jsonl;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.Progress;
import org.routecal.pipeline.OutputDir;
import org.routecal.route.BracketStage;
import org.routecal.route.Mode;
import org.routecal.route.RouteParams;
import org.routecal.route.RouteResult;
import org.routecal.route.RouteStage;
import org.routecal.quant.MoeMode;
import org.routecal.quant.QuantizeOptions;
import org.routecal.quant.QuantizeStage;
import org.routecal.eval.EvaluateStage;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.extract.ExtractParams;
import org.routecal.synth.extract.ExtractStage;
import org.routecal.synth.refine.RefineStage;
import org.routecal.synth.select.Objective;
import org.routecal.synth.select.SelectionOptions;
import org.routecal.tokenize.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code routecal demo}: the whole loop on the embedded demo model, offline. Every step runs through the same command
 * objects the CLI and the magics use (parsed by the same parser), so the demo exercises exactly what users run:
 * route the original corpus → bracket → extract (statistical guidelines) → refine with the local pool → quantize
 * (GPTQ W4) for four calibration sets × four MoE modes → route each calibration set for its coverage → evaluate every
 * checkpoint on a held-out set → the evidence table and report.html.
 */
public final class DemoPipeline {
    /** Sizes: {@code full} for the README's run, {@code small} for CI (same code path, fewer samples). */
    public record Settings(Path out, String size, long seed, boolean overwrite, Path cache, org.routecal.compute.devices.DeviceOptions device) {
        public Settings(Path out, String size, long seed, boolean overwrite, Path cache) {
            this(out, size, seed, overwrite, cache, new org.routecal.compute.devices.DeviceOptions());
        }

        boolean small() { return size.equals("small"); }
    }

    public static final List<String> SETS = List.of("skewed", "original", "original+more", "compound");
    public static final List<String> MODES = List.of("routed", "all", "hybrid", "weighted");

    private DemoPipeline() {}

    public static DemoResult run(Settings s, Progress progress) throws Exception {
        try (org.routecal.session.Session session = new org.routecal.session.Session(progress)) {
            return run(s, session);
        }
    }

    /** Runs every stage in one session: the demo model is loaded once, on the device {@code s.device()} selects. */
    public static DemoResult run(Settings s, org.routecal.session.Session session) throws Exception {
        try (OutputDir run = OutputDir.of("demo", s.out()).overwrite(s.overwrite()).open()) {
            DemoResult r = runIn(s, run, session);
            run.commit();
            return r;
        }
    }

    private static DemoResult runIn(Settings s, OutputDir run, org.routecal.session.Session session) throws Exception {
        Progress progress = session.progress();
        long t0 = System.nanoTime();
        Path out = run.path();
        Manifest.Builder manifest = Manifest.builder("demo").parameter("size", s.size()).seed(s.seed());
        Map<String, Double> timings = new LinkedHashMap<>();

        progress.message("demo assets (generated on first use, cached)");
        Path model = s.cache() == null ? DemoAssets.ensure() : DemoAssets.ensure(s.cache());
        Path assets = model.getParent();
        Path data = Files.createDirectories(out.resolve("data"));

        // 1. data splits
        long t = System.nanoTime();
        List<JsonNode> corpus = DemoData.read(assets.resolve(DemoCorpus.CORPUS));
        List<JsonNode> pool = DemoData.read(assets.resolve(DemoCorpus.POOL));
        if (s.small()) {
            corpus = every(corpus, 3);
            pool = every(pool, 3);
        }
        List<List<JsonNode>> split = DemoData.splitPool(pool, s.small() ? 4 : 12, s.seed());
        List<JsonNode> eval = split.get(0), selection = split.get(1);
        List<JsonNode> skewed = corpus.stream().filter(r -> r.path("domain").asText().equals("chat")
                && r.path("language").asText("en").equals("en")).toList();
        DemoData.write(data.resolve("original.jsonl"), corpus);
        DemoData.write(data.resolve("skewed.jsonl"), skewed);
        DemoData.write(data.resolve("eval.jsonl"), eval);
        DemoData.write(data.resolve("pool.jsonl"), selection);
        timings.put("data", secs(t));

        // 2. stage 1 on the original corpus, brackets, statistical guidelines
        t = System.nanoTime();
        RouteResult routed = RouteStage.run(new RouteStage.Request(model, corpusOptions(data.resolve("original.jsonl"), s), "auto",
                out.resolve("route/original"), RouteParams.defaults().withJsonl(true), s.device()), session);
        for (Mode m : List.of(Mode.BALANCE, Mode.Q_SENSITIVITY)) BracketStage.run(out.resolve("route/original"), BracketStage.Params.defaults(m), progress);
        ExtractStage.runInto(ExtractParams.defaults(List.of(out.resolve("route/original/bracketed_balance.jsonl"),
                out.resolve("route/original/bracketed_q_sensitivity.jsonl")), out.resolve("extract")), false, progress);
        timings.put("route+bracket+extract", secs(t));

        // 3. the loop: refine with the local pool (no LLM), target 4 × hidden so the starved scripts' experts show
        t = System.nanoTime();
        long target = 4L * routed.target(); // the default target is the hidden size
        RefineStage.run(new RefineStage.Request(model, corpusOptions(data.resolve("original.jsonl"), s), "auto",
                data.resolve("pool.jsonl"), null, out.resolve("refine"), false, hidden -> AcceptanceParams.defaults(target),
                new RefineStage.Stop(s.small() ? 2 : 4, 0, 2), 64, 256, null, null, 2048, s.device(),
                SelectionOptions.of(Objective.DEFICIT)), session); // the deficit loop against "more of the same" (README's evidence table)
        Path compound = out.resolve("refine/compound.jsonl");
        Files.copy(compound, data.resolve("compound.jsonl"));
        timings.put("refine", secs(t));

        // 4. original + more at the compound corpus's token budget
        Map<String, Integer> tokens = tokenCounts(model, List.of(data.resolve("original.jsonl"), data.resolve("pool.jsonl"), data.resolve("compound.jsonl")));
        long originalTokens = corpus.stream().mapToLong(r -> tokens.getOrDefault(r.path("sample_id").asText(), 0)).sum();
        long compoundTokens = Jsonl.read(data.resolve("compound.jsonl")).stream()
                .mapToLong(r -> tokens.getOrDefault(r.path("sample_id").asText(), 0)).sum();
        List<JsonNode> more = DemoData.originalPlusMore(corpus, selection, originalTokens, compoundTokens,
                r -> tokens.getOrDefault(r.path("sample_id").asText(), 0), s.seed());
        DemoData.write(data.resolve("original+more.jsonl"), more);

        // 5. coverage of every calibration set (stage 1 on each), then quantize each set in each mode
        t = System.nanoTime();
        Map<String, RouteResult> coverage = new LinkedHashMap<>();
        for (String set : SETS) {
            coverage.put(set, RouteStage.run(new RouteStage.Request(model, corpusOptions(data.resolve(set + ".jsonl"), s), "auto",
                    out.resolve("coverage/" + set), RouteParams.defaults().withTarget(target).withRtnSensitivity(false), s.device()), session));
        }
        timings.put("coverage", secs(t));
        t = System.nanoTime();
        List<Path> checkpoints = new ArrayList<>();
        for (String set : SETS) {
            for (String mode : MODES) {
                Path q = out.resolve("quantized/" + set + "-" + mode);
                QuantizeOptions o = QuantizeOptions.defaults().withGroupSize(32).withMoeMode(MoeMode.parse(mode));
                QuantizeStage.run(new QuantizeStage.Request(model, corpusOptions(data.resolve(set + ".jsonl"), s), "auto", q, o, s.device()), session);
                checkpoints.add(q);
            }
        }
        timings.put("quantize", secs(t));

        // 6. evaluate everything on the held-out set
        t = System.nanoTime();
        EvaluateStage.run(new EvaluateStage.Request(model, checkpoints, corpusOptions(data.resolve("eval.jsonl"), s), "auto",
                out.resolve("eval"), false, s.device()), session);
        timings.put("evaluate", secs(t));

        // 7. the evidence table and the report
        EvidenceTable table = EvidenceTable.build(out.resolve("eval/eval.json"), coverage, compoundTokens, originalTokens);
        DemoReport.write(out.resolve("report.html"), table, coverage, out, s, timings);
        table.writeJson(out.resolve("evidence.json"));
        timings.put("total", secs(t0));
        timings.forEach(manifest::timing);
        manifest.device(session.backend());
        manifest.input("model", model).input("corpus", assets.resolve(DemoCorpus.CORPUS)).input("pool", assets.resolve(DemoCorpus.POOL));
        manifest.output("report", out.resolve("report.html"), out).output("evidence", out.resolve("evidence.json"), out);
        run.writeManifest(manifest.build());
        return new DemoResult(out, table, timings);
    }

    /** The corpus options every demo stage uses: the CLI's defaults with the demo's seed. */
    private static CorpusOptions corpusOptions(Path file, Settings s) {
        return CorpusOptions.of(file).withSeed(s.seed());
    }

    /** Token counts per sample_id, with the model's chat template, as every stage counts them. */
    private static Map<String, Integer> tokenCounts(Path model, List<Path> files) {
        Map<String, Integer> n = new LinkedHashMap<>();
        try (Tokenizer tok = Tokenizer.load(model)) {
            for (Path f : files) {
                for (Sample smp : Corpus.load(CorpusOptions.of(f).withDedup(false), tok)) n.put(smp.sampleId(), smp.encoding().ids().length);
            }
        }
        return n;
    }

    private static <T> List<T> every(List<T> rows, int k) {
        List<T> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i += k) out.add(rows.get(i));
        return out;
    }

    private static double secs(long t0) { return Math.round((System.nanoTime() - t0) / 1e7) / 100.0; }
}
