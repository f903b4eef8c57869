package org.routecal.route;

import org.routecal.RoutecalException;
import org.routecal.io.Jsonl;
import org.routecal.compute.ExpertGroups;
import org.routecal.compute.Tensor;
import org.routecal.model.Activations;
import org.routecal.model.ExpertInputs;
import org.routecal.model.ForwardTaps;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.OutputDir;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.pipeline.Manifest;
import org.routecal.model.PackedExperts;
import org.routecal.pipeline.Progress;
import org.routecal.session.Session;
import org.routecal.tokenize.TextCodec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * Stage 1, routing analysis. Phases:
 * <ol>
 *   <li>prepare: geometry and fingerprint of the model, run-directory check ({@link RouteRunDir}), samples.jsonl;</li>
 *   <li>per batch (pass 1): forward whole samples (≤ batchTokens tokens) with a routing tap, append the batch to
 *       routing.parquet (and token_routing.jsonl), add it to the {@link ExpertCounts}, and, if asked, accumulate
 *       each expert's RTN output error on its routed rows; only one batch's activations are alive at a time;</li>
 *   <li>finish: weight sensitivity, balance metrics, slot sets; pass 2 streams routing.parquet back to score every
 *       token against the final sets (token_scores.parquet, class counts per domain);</li>
 *   <li>outputs: expert_stats.parquet, metrics.json, report.html, manifest.json.</li>
 * </ol>
 * Memory is O(slots × domains + one batch), independent of corpus size apart from writer buffers.
 */
public final class RouteStage {
    private RouteStage() {}

    /**
     * What a route run needs, as the CLI, the magics and the demo give it.
     *
     * @param tokenizer auto (the model's tokenizer.json and chat template) or byte (byte-vocabulary test models)
     */
    public record Request(Path model, CorpusOptions corpus, String tokenizer, Path out, RouteParams params, DeviceOptions device) {}

    /** Loads the corpus with the model's codec, routes it on the session's model, writes the run directory. */
    public static RouteResult run(Request r, Session session) {
        Progress progress = session.progress();
        try (TextCodec codec = TextCodec.load(r.model(), r.tokenizer())) {
            MoeModel m = session.model(r.model(), r.device());
            progress.message("loading corpus " + r.corpus().corpus());
            Corpus.Loaded loaded = Corpus.read(r.corpus(), codec);
            progress.message("corpus: " + loaded);
            List<RoutedSample> routed = loaded.samples().stream().map(s -> new RoutedSample(s.sampleId(), s.domain(), s.text(),
                    s.encoding().ids(), s.encoding().charStart(), s.encoding().charEnd())).toList();
            Map<String, Object> settings = new LinkedHashMap<>(r.corpus().parameters());
            settings.put("corpus_loaded", new Manifest.Results(loaded.summary()));
            Map<Integer, String> cache = new java.util.HashMap<>();
            return run(m, routed, id -> cache.computeIfAbsent(id, i -> tokenString(codec, i)), r.params(), r.out(),
                    Map.of("corpus", r.corpus().corpus()), settings, progress, session::checkCancelled);
        }
    }

    /** The reference's token_str: decode([id]); the vocabulary string if that is blank; else "&lt;id=N&gt;". */
    static String tokenString(TextCodec t, int id) {
        String s = t.decode(new int[]{id});
        if (s != null && !s.isBlank()) return s;
        String v = t instanceof org.routecal.tokenize.Tokenizer tok ? tok.tokenString(id) : null;
        return v != null && !v.isBlank() ? v : "<id=" + id + ">";
    }

    /**
     * Runs the stage.
     *
     * @param tokenString text of a token id for token_routing.jsonl (only used with {@code params.jsonl()})
     * @param inputs      named input files for the manifest (e.g. corpus), hashed there
     * @param settings    extra parameters to record in the manifest (e.g. corpus options)
     */
    public static RouteResult run(MoeModel model, List<RoutedSample> samples, IntFunction<String> tokenString, RouteParams params,
                                  Path out, Map<String, Path> inputs, Map<String, Object> settings, Progress progress) {
        return run(model, samples, tokenString, params, out, inputs, settings, progress, () -> {});
    }

    /** Tokens whose residual streams one layer-major pass keeps alive (bounds activation memory). */
    static final int PASS_TOKENS = 1 << 16;

    /** As above; {@code cancel} runs between layers and throws to stop (the session's cancellation check). */
    public static RouteResult run(MoeModel model, List<RoutedSample> samples, IntFunction<String> tokenString, RouteParams params,
                                  Path out, Map<String, Path> inputs, Map<String, Object> settings, Progress progress, Runnable cancel) {
        if (samples.isEmpty()) throw new RoutecalException("the corpus has no sample to route");
        for (RoutedSample s : samples) {
            if (s.tokens() == 0) throw new RoutecalException("sample " + s.sampleId() + " (" + s.domain() + ") has no token");
        }
        RoutingGeometry g = geometry(model.config());
        String fingerprint = ModelFingerprint.of(model, g);
        try (OutputDir dir = RouteRunDir.prepare(out, fingerprint, params.overwrite(), model.dir(), inputs)) {
            RouteResult result = write(model, samples, tokenString, params, dir.path(), inputs, settings, g, fingerprint, progress, cancel);
            dir.commit();
            return result;
        }
    }

    /** The phases, writing into the opened run directory {@code out}. */
    private static RouteResult write(MoeModel model, List<RoutedSample> samples, IntFunction<String> tokenString, RouteParams params,
                                     Path out, Map<String, Path> inputs, Map<String, Object> settings, RoutingGeometry g,
                                     String fingerprint, Progress progress, Runnable cancel) {
        long t0 = System.nanoTime();
        List<String> domains = samples.stream().map(RoutedSample::domain).distinct().sorted().toList();
        int[] domainOfSample = samples.stream().mapToInt(s -> domains.indexOf(s.domain())).toArray();
        writeSamples(out.resolve(RouteRunDir.SAMPLES), samples);

        // pass 1: capture + counts (+ RTN error), layer-major over super-batches: each layer's weights are loaded once
        // per super-batch, however many forward batches it holds
        ExpertCounts counts = new ExpertCounts(g, domains);
        ExpertErrorTap errorTap = params.rtnSensitivity() ? new ExpertErrorTap(model, g) : null;
        long totalTokens = samples.stream().mapToLong(RoutedSample::tokens).sum();
        long tCapture = System.nanoTime(), forwardNanos = 0;
        progress.start("route: forward + capture", totalTokens * model.config().layerCount());
        List<int[]> ranges = batches(samples, params.batchTokens());
        try (RoutingParquet.Writer routing = new RoutingParquet.Writer(out.resolve(RouteRunDir.ROUTING), g, fingerprint);
             TokenRoutingJsonl jsonl = params.jsonl() ? new TokenRoutingJsonl(out.resolve(RouteRunDir.TOKEN_ROUTING), g,
                     samples.stream().map(RoutedSample::sampleId).toList(), tokenString) : null) {
            for (List<int[]> pass : passes(ranges, samples, PASS_TOKENS)) {
                List<RoutingCapture> captures = new ArrayList<>();
                List<Activations> acts = new ArrayList<>();
                try {
                    for (int[] range : pass) {
                        List<RoutedSample> part = samples.subList(range[0], range[1]);
                        captures.add(new RoutingCapture(g, part, IntStream.range(range[0], range[1]).toArray()));
                        acts.add(model.embed(part.stream().map(RoutedSample::tokenIds).toList(), acts.size()));
                    }
                    long f0 = System.nanoTime();
                    model.forward(acts, new ForwardTaps() {
                        @Override public void routing(int layer, Activations batch, Tensor x, Tensor ids, Tensor w, Tensor logits) {
                            captures.get(batch.batchIndex).capture(layer, model.backend(), ids, w);
                        }

                        @Override public void routedExperts(int layer, Activations batch, ExpertGroups groups, ExpertInputs in,
                                                            Tensor gateUp, Tensor act, Tensor out) {
                            if (errorTap != null) errorTap.accumulate(layer, groups, in, gateUp, act, out);
                        }

                        @Override public void layerOutput(int layer, Activations batch, Tensor h) {
                            progress.advance(batch.tokens());
                            cancel.run();
                        }
                    });
                    forwardNanos += System.nanoTime() - f0;
                } finally {
                    acts.forEach(Activations::close);
                }
                for (RoutingCapture capture : captures) {
                    RoutingBatch batch = capture.batch();
                    routing.write(batch);
                    if (jsonl != null) jsonl.write(batch);
                    counts.add(batch, domainOfSample);
                }
            }
        } finally {
            if (errorTap != null) errorTap.release();
        }
        progress.finish();
        double captureSeconds = (System.nanoTime() - tCapture) / 1e9;

        // finish: sensitivity, metrics, sets
        long target = params.target() > 0 ? params.target() : model.config().hiddenSize();
        long tSensitivity = System.nanoTime();
        // the RTN-error tap scored every expert while its weights were decoded for the forward (one read of the
        // checkpoint); without the tap, one more pass over the expert weights
        double[] fromTap = errorTap != null ? errorTap.referenceSensitivity() : null;
        double[] sensitivity = fromTap != null ? fromTap : referenceSensitivity(model, g, progress);
        double sensitivitySeconds = (System.nanoTime() - tSensitivity) / 1e9;
        double[] rtnError = new double[g.slots()];
        double[][] rtnByProj = new double[3][g.slots()];
        for (int s = 0; s < g.slots(); s++) {
            rtnError[s] = errorTap == null ? Double.NaN : errorTap.expertError(s);
            for (int p = 0; p < 3; p++) rtnByProj[p][s] = errorTap == null ? Double.NaN : errorTap.relativeError(s, p);
        }
        long[] c = counts.counts();
        SlotSets balance = SlotSets.balance(g, c, params.freqThr(), params.lessThr(), params.ranking());
        SlotSets qSens = SlotSets.qSensitivity(g, sensitivity, params.robThr(), params.senThr(), params.ranking());
        List<BalanceMetrics> perLayer = BalanceMetrics.perLayer(counts, target);
        BalanceMetrics all = BalanceMetrics.allSlots(counts, target);

        // pass 2: token scores against the final sets
        long tScore = System.nanoTime();
        long[] deficits = BalanceMetrics.deficits(c, target);
        TokenScoreWriter.Summary scoreSummary = TokenScoreWriter.write(out, g, params, balance, qSens, deficits, target,
                domains, domainOfSample, params.batchTokens(), progress);
        double scoreSeconds = (System.nanoTime() - tScore) / 1e9;

        ExpertStats stats = new ExpertStats(counts, sensitivity, rtnError, rtnByProj, target, balance, qSens);
        stats.write(out.resolve(RouteRunDir.EXPERT_STATS), fingerprint);
        Map<String, Double> timings = new LinkedHashMap<>();
        timings.put("capture_seconds", captureSeconds);
        timings.put("forward_seconds", forwardNanos / 1e9);
        timings.put("weight_sensitivity_seconds", sensitivitySeconds);
        timings.put("score_seconds", scoreSeconds);
        RouteMetricsJson.write(out.resolve(RouteRunDir.METRICS), g, counts, target, perLayer, all, balance, qSens, scoreSummary, params);
        RouteResult result = new RouteResult(out, g, fingerprint, counts.tokens(), samples.size(), domains, target, perLayer, all,
                balance, qSens, scoreSummary, stats.table(), timings, params.balanceBoxes(), params.qBoxes());
        RouteReport.write(out.resolve(RouteRunDir.REPORT), result);
        timings.put("total_seconds", (System.nanoTime() - t0) / 1e9);
        RouteManifest.write(out, RouteRunDir.MANIFEST, "route", model, fingerprint, params, inputs, settings, timings);
        return result;
    }

    /** MoE layers, experts and top-k of a model. */
    public static RoutingGeometry geometry(ModelConfig c) {
        int[] moe = IntStream.range(0, c.layerCount()).filter(c::isMoeLayer).toArray();
        if (moe.length == 0) throw new RoutecalException("model " + c.modelType() + " has no MoE layer: nothing to route");
        return new RoutingGeometry(moe, c.expertCount(), c.expertUsedCount());
    }

    /**
     * The reference weight-outlier score of every expert (max over gate/up/down), the experts of a layer in parallel
     * (each decodes its three matrices and runs a median per group of 128: CPU work, one expert per core). // [slots]
     */
    static double[] referenceSensitivity(MoeModel model, RoutingGeometry g, Progress progress) {
        ModelConfig c = model.config();
        int hidden = c.hiddenSize(), inter = c.expertIntermediateSize();
        double[] out = new double[g.slots()];
        progress.start("route: weight sensitivity", g.slots());
        var w = model.weights(); // per-expert names of either layout (a packed family's are slices of its 3-D tensors)
        for (int l = 0; l < g.layers(); l++) {
            int layer = g.layerIndex()[l], ordinal = l;
            IntStream.range(0, g.experts()).parallel().forEach(e -> out[g.slot(ordinal, e)] = expertSensitivity(
                    w.hostValues(w.expertWeightName(layer, e, PackedExperts.Projection.GATE), inter, hidden),
                    w.hostValues(w.expertWeightName(layer, e, PackedExperts.Projection.UP), inter, hidden),
                    w.hostValues(w.expertWeightName(layer, e, PackedExperts.Projection.DOWN), hidden, inter), inter, hidden));
            progress.advance(g.experts());
        }
        progress.finish();
        return out;
    }

    /** One expert's reference score from its gate [I, H], up [I, H] and down [H, I] weights. */
    static double expertSensitivity(float[] gate, float[] up, float[] down, int inter, int hidden) {
        return ReferenceSensitivity.expert(ReferenceSensitivity.matrix(gate, inter, hidden, ReferenceSensitivity.GROUP),
                ReferenceSensitivity.matrix(up, inter, hidden, ReferenceSensitivity.GROUP),
                ReferenceSensitivity.matrix(down, hidden, inter, ReferenceSensitivity.GROUP));
    }

    /** Groups consecutive batch ranges into passes of at most {@code passTokens} tokens (at least one batch each). */
    static List<List<int[]>> passes(List<int[]> ranges, List<RoutedSample> samples, int passTokens) {
        List<List<int[]>> out = new ArrayList<>();
        List<int[]> cur = new ArrayList<>();
        long n = 0;
        for (int[] r : ranges) {
            long t = 0;
            for (int i = r[0]; i < r[1]; i++) t += samples.get(i).tokens();
            if (!cur.isEmpty() && n + t > passTokens) {
                out.add(cur);
                cur = new ArrayList<>();
                n = 0;
            }
            cur.add(r);
            n += t;
        }
        if (!cur.isEmpty()) out.add(cur);
        return out;
    }

    /** Consecutive sample ranges of at most {@code batchTokens} tokens (a longer sample forms its own batch). */
    static List<int[]> batches(List<RoutedSample> samples, int batchTokens) {
        List<int[]> out = new ArrayList<>();
        int start = 0, tokens = 0;
        for (int i = 0; i < samples.size(); i++) {
            int n = samples.get(i).tokens();
            if (i > start && tokens + n > batchTokens) {
                out.add(new int[]{start, i});
                start = i;
                tokens = 0;
            }
            tokens += n;
        }
        out.add(new int[]{start, samples.size()});
        return out;
    }

    private static void writeSamples(Path file, List<RoutedSample> samples) {
        List<Map<String, Object>> rows = new ArrayList<>(samples.size());
        for (int i = 0; i < samples.size(); i++) {
            RoutedSample s = samples.get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("sample_index", i);
            m.put("sample_id", s.sampleId());
            m.put("domain", s.domain());
            m.put("n_tokens", s.tokens());
            m.put("text", s.text());
            rows.add(m);
        }
        Jsonl.write(file, rows);
    }
}
