package org.routecal.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.HashMap;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.Activations;
import org.routecal.model.ForwardTaps;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.ModelWeights;
import org.routecal.model.MoeModel;
import org.routecal.corpus.Sample;
import org.routecal.pipeline.OutputDir;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.pipeline.Progress;
import org.routecal.session.Session;
import org.routecal.tokenize.TextCodec;

/**
 * Stage 0 evaluation: the original model and each quantized checkpoint on the same samples. Per sample and model:
 * mean NLL and perplexity; for quantized models also per-token KL(original‖quantized), top-1 agreement and router
 * agreement (share of tokens whose top-k set is unchanged, per MoE layer); per expert the relative output error on
 * its routed tokens. Outputs eval.parquet (per sample × model), eval_experts.parquet, eval.json and eval.html,
 * written into a temp directory renamed onto {@code out}.
 */
public final class EvaluateStage {
    private EvaluateStage() {}

    /** Whole-corpus metrics of one model. */
    public record ModelMetrics(String name, String path, long tokens, double nll, double ppl, Double kl, Double top1,
                               Map<Integer, Double> routerAgreement) {}

    public record Result(Path out, List<ModelMetrics> models, int samples, EvalStatistics.Report statistics) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(String.format("%-24s %10s %10s %10s %8s %8s%n", "model", "tokens", "ppl", "kl", "top1", "router"));
            for (ModelMetrics m : models) {
                double ra = m.routerAgreement().values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
                sb.append(String.format("%-24s %10d %10.4f %10s %8s %8s%n", m.name(), m.tokens(), m.ppl(),
                        m.kl() == null ? "-" : String.format("%.5f", m.kl()), m.top1() == null ? "-" : String.format("%.4f", m.top1()),
                        m.routerAgreement().isEmpty() ? "-" : String.format("%.4f", ra)));
            }
            sb.append(EvalOutputs.statisticsText(statistics));
            return sb.append(samples).append(" samples; ").append(out).append("/{eval.parquet,eval.json,eval.html}").toString();
        }
    }

    /** Tokens per forward batch (samples are packed into batches of whole sequences). */
    static final int BATCH_TOKENS = 2048;
    /** Rows of logits materialised at once ([rows, vocab] per model). */
    static final int LOGIT_ROWS = 256;

    /**
     * What an evaluate run needs, as the CLI, the magics and the demo give it (tokenizer: auto or byte; statistics: the
     * bootstrap settings of the confidence intervals).
     */
    public record Request(Path model, List<Path> quantized, CorpusOptions corpus, String tokenizer, Path out, boolean overwrite,
                          DeviceOptions device, EvalStatistics.Options statistics) {
        /** With the default intervals. */
        public Request(Path model, List<Path> quantized, CorpusOptions corpus, String tokenizer, Path out, boolean overwrite,
                       DeviceOptions device) {
            this(model, quantized, corpus, tokenizer, out, overwrite, device, EvalStatistics.Options.defaults());
        }
    }

    /** Loads the held-out corpus with the original model's codec and evaluates every checkpoint in the session. */
    public static Result run(Request r, Session session) {
        Corpus.Loaded loaded;
        try (TextCodec codec = TextCodec.load(r.model(), r.tokenizer())) {
            loaded = Corpus.read(r.corpus(), codec);
        }
        session.progress().message("corpus: " + loaded);
        MoeModel original = session.model(r.model(), r.device());
        List<Candidate> candidates = new ArrayList<>();
        for (Path q : r.quantized()) candidates.add(new Candidate(name(q), q, session.model(q, r.device())));
        return run(original, candidates, loaded.samples(), r.out(), r.overwrite(), Corpus.manifestInputs(r.corpus(), loaded),
                r.statistics(), session.progress(), session::checkCancelled);
    }

    /** A quantized checkpoint loaded for comparison, with the name its rows carry. */
    public record Candidate(String name, Path path, MoeModel model) {}

    /**
     * Evaluates {@code original} and every candidate on the same samples, in layer-major passes over many batches (each
     * layer's weights are read once per pass, so a model larger than the weight cache is read once per pass, not once
     * per batch). One forward of the original is shared by all candidates (its logits are the KL reference, its block
     * inputs feed the per-expert error).
     */
    public static Result run(MoeModel original, List<Candidate> quantized, List<Sample> samples, Path out, boolean overwrite,
                             Progress progress, Runnable cancel) {
        return run(original, quantized, samples, out, overwrite, Map.of(), EvalStatistics.Options.defaults(), progress, cancel);
    }

    /**
     * As above; {@code inputs} names the corpus (a Path: hashed in the manifest, never overlapped by {@code out}) and
     * carries the corpus loader's summary (a Map, recorded as results); {@code statistics}: the bootstrap settings of the
     * confidence intervals (eval.json "statistics", eval.html). Writes through a staged {@link OutputDir}.
     */
    public static Result run(MoeModel original, List<Candidate> quantized, List<Sample> samples, Path out, boolean overwrite,
                             Map<String, Object> inputs, EvalStatistics.Options statistics, Progress progress, Runnable cancel) {
        List<Path> paths = quantized.stream().map(Candidate::path).toList();
        try (OutputDir dir = EvalOutputs.open(out, overwrite, original.dir(), paths, inputs)) {
            long t0 = System.nanoTime();
            Result r = evaluate(original, quantized, samples, dir, statistics, progress, cancel);
            dir.writeManifest(EvalOutputs.manifest(dir.path(), original, paths, inputs, r, (System.nanoTime() - t0) / 1e9));
            dir.commit();
            return r;
        }
    }

    private static Result evaluate(MoeModel original, List<Candidate> quantized, List<Sample> samples, OutputDir dir,
                                   EvalStatistics.Options statistics, Progress progress, Runnable cancel) {
        Path target = dir.target();
        Backend b = original.backend();
        ModelConfig cfg = original.config();
        int nq = quantized.size(), experts = cfg.expertCount();
        long[] tokens = new long[nq + 1];
        double[] nll = new double[nq + 1], kl = new double[nq + 1];
        long[] top1 = new long[nq + 1];
        List<Map<Integer, long[]>> router = new ArrayList<>(); // layer → {same, total}
        double[][][] expNum = new double[nq][cfg.layerCount()][experts], expDen = new double[nq][cfg.layerCount()][experts];
        long[][][] expCount = new long[nq][cfg.layerCount()][experts];
        for (int i = 0; i <= nq; i++) router.add(new LinkedHashMap<>());
        List<Object[]> rows = new ArrayList<>();
        List<Sample> scored = samples.stream().filter(s -> s.ids().length >= 2).toList();
        progress.start("evaluate samples", scored.size());
        int passTokens = passTokens(b, nq + 1, cfg.hiddenSize());
        for (List<List<Sample>> pass : passes(batches(scored), passTokens)) {
            cancel.run();
            List<List<int[]>> seqs = pass.stream().map(batch -> batch.stream().map(Sample::ids).toList()).toList();
            // per model (0 = original), per batch of the pass: the final residual stream and each MoE layer's top-k ids
            List<List<Activations>> acts = new ArrayList<>();
            List<List<Map<Integer, int[]>>> ids = new ArrayList<>();
            try {
                for (int m = 0; m <= nq; m++) {
                    MoeModel model = m == 0 ? original : quantized.get(m - 1).model();
                    List<Activations> a = new ArrayList<>();
                    acts.add(a);
                    List<Map<Integer, int[]>> topk = new ArrayList<>();
                    ids.add(topk);
                    for (int i = 0; i < pass.size(); i++) {
                        a.add(model.embed(seqs.get(i), i));
                        topk.add(new HashMap<>());
                    }
                    boolean isOriginal = m == 0;
                    // layer-major over the pass: each layer's weights are read once per pass, not once per batch
                    model.forward(a, new ForwardTaps() {
                        @Override public void routing(int layer, Activations act, Tensor x, Tensor t, Tensor w, Tensor logits) {
                            topk.get(act.batchIndex).put(layer, b.downloadInts(t));
                            if (!isOriginal) return;
                            for (int q = 0; q < nq; q++) { // the original's block input through both expert weights
                                ModelWeights.Experts ow = experts(original, layer), qw = experts(quantized.get(q).model(), layer);
                                ExpertError.accumulate(b, original.family().routerRule(original.config()), ow, qw, x, t, w, experts,
                                        expNum[q][layer], expDen[q][layer], expCount[q][layer]);
                            }
                        }

                        @Override public void layerOutput(int layer, Activations act, Tensor h) {
                            if (act.batchIndex == 0) cancel.run();
                        }
                    });
                }
                for (int i = 0; i < pass.size(); i++) {
                    List<Sample> batch = pass.get(i);
                    List<Activations> batchActs = new ArrayList<>();
                    for (List<Activations> a : acts) batchActs.add(a.get(i));
                    double[][][] stats = tokenStats(original, quantized, batchActs, seqs.get(i)); // [model][row] → nll, kl, agree
                    Activations a0 = batchActs.get(0);
                    Map<Integer, int[]> origIds = ids.get(0).get(i);
                    for (int s = 0; s < batch.size(); s++) {
                        Sample sample = batch.get(s);
                        int start = a0.sequenceStart[s], pos = sample.ids().length - 1;
                        for (int m = 0; m <= nq; m++) {
                            double n = 0, k = 0;
                            long agree = 0;
                            for (int r = start; r < start + pos; r++) {
                                n += stats[m][r][0];
                                k += stats[m][r][1];
                                agree += (long) stats[m][r][2];
                            }
                            tokens[m] += pos;
                            nll[m] += n;
                            if (m == 0) {
                                rows.add(new Object[]{"original", sample.sampleId(), sample.domain(), pos, n / pos, Math.exp(n / pos), null, null, null});
                                continue;
                            }
                            kl[m] += k;
                            top1[m] += agree;
                            long same = 0, total = 0;
                            for (Map.Entry<Integer, int[]> e : origIds.entrySet()) {
                                int layer = e.getKey(), tk = sample.ids().length, topK = e.getValue().length / a0.tokens();
                                int[] a = java.util.Arrays.copyOfRange(e.getValue(), start * topK, (start + tk) * topK);
                                int[] q = java.util.Arrays.copyOfRange(ids.get(m).get(i).get(layer), start * topK, (start + tk) * topK);
                                int sm = SequenceMetrics.sameTopK(a, q, tk, topK);
                                long[] acc = router.get(m).computeIfAbsent(layer, l -> new long[2]);
                                acc[0] += sm;
                                acc[1] += tk;
                                same += sm;
                                total += tk;
                            }
                            rows.add(new Object[]{quantized.get(m - 1).name(), sample.sampleId(), sample.domain(), pos, n / pos, Math.exp(n / pos),
                                    k / pos, agree / (double) pos, total == 0 ? null : same / (double) total});
                        }
                    }
                    progress.advance(batch.size());
                }
            } finally {
                acts.forEach(list -> list.forEach(Activations::close));
            }
        }
        progress.finish();
        List<ModelMetrics> metrics = new ArrayList<>();
        for (int q = 0; q <= nq; q++) {
            Map<Integer, Double> ra = new LinkedHashMap<>();
            for (Map.Entry<Integer, long[]> e : router.get(q).entrySet()) ra.put(e.getKey(), e.getValue()[0] / (double) e.getValue()[1]);
            double mean = nll[q] / Math.max(1, tokens[q]);
            metrics.add(new ModelMetrics(q == 0 ? "original" : quantized.get(q - 1).name(),
                    q == 0 ? original.dir().toString() : quantized.get(q - 1).path().toString(),
                    tokens[q], mean, Math.exp(mean), q == 0 ? null : kl[q] / tokens[q], q == 0 ? null : top1[q] / (double) tokens[q], ra));
        }
        List<Object[]> expertRows = new ArrayList<>();
        for (int q = 0; q < nq; q++)
            for (int l = 0; l < cfg.layerCount(); l++)
                for (int e = 0; e < experts; e++)
                    if (expCount[q][l][e] > 0) expertRows.add(new Object[]{quantized.get(q).name(), l, e, expCount[q][l][e],
                            expDen[q][l][e] == 0 ? 0.0 : expNum[q][l][e] / expDen[q][l][e]});
        EvalStatistics.Report stats = EvalStatistics.compute(sampleRows(rows), statistics);
        EvalOutputs.write(dir.path(), rows, expertRows, metrics, stats);
        return new Result(target, metrics, samples.size(), stats);
    }

    /** The per-sample rows (columns of {@link EvalOutputs#SAMPLE_COLUMNS}) as the statistics read them. */
    static List<EvalStatistics.SampleRow> sampleRows(List<Object[]> rows) {
        return rows.stream().map(r -> new EvalStatistics.SampleRow((String) r[0], (String) r[1], (String) r[2], (Integer) r[3],
                (Double) r[4], (Double) r[6])).toList();
    }

    private static ModelWeights.Experts experts(MoeModel m, int layer) {
        ModelConfig c = m.config();
        return m.weights().experts(m.family().tensors(), layer, c.expertCount(), c.expertIntermediateSize(), c.hiddenSize());
    }

    /**
     * Per model and row: (−log p(next token), KL(original ‖ model), top-1 agreement with the original) from the final
     * residual streams, LOGIT_ROWS rows of logits at a time on the backend. Rows without a next token stay 0.
     */
    private static double[][][] tokenStats(MoeModel original, List<Candidate> quantized, List<Activations> acts, List<int[]> seqs) {
        Backend b = original.backend();
        Activations a0 = acts.get(0);
        int total = a0.tokens(), nq = quantized.size();
        int[] targets = new int[total];
        java.util.Arrays.fill(targets, -1);
        for (int s = 0; s < seqs.size(); s++) {
            int[] ids = seqs.get(s);
            for (int t = 0; t + 1 < ids.length; t++) targets[a0.sequenceStart[s] + t] = ids[t + 1];
        }
        double[][][] out = new double[nq + 1][total][3];
        for (int r0 = 0; r0 < total; r0 += LOGIT_ROWS) {
            int n = Math.min(LOGIT_ROWS, total - r0);
            try (Tensor tg = b.uploadInts(java.util.Arrays.copyOfRange(targets, r0, r0 + n), 1, n, "targets");
                 Tensor lo = original.logits(a0, r0, n);
                 Tensor st = b.allocate(TensorType.F32, n, 4, "token stats")) {
                b.tokenStats(lo, tg, null, st);
                float[] v = b.download(st);
                for (int i = 0; i < n; i++) out[0][r0 + i][0] = v[i * 4];
                for (int q = 0; q < nq; q++) {
                    try (Tensor lq = quantized.get(q).model().logits(acts.get(q + 1), r0, n)) {
                        b.tokenStats(lq, tg, lo, st);
                        float[] w = b.download(st);
                        for (int i = 0; i < n; i++) {
                            out[q + 1][r0 + i][0] = w[i * 4];
                            out[q + 1][r0 + i][1] = w[i * 4 + 1];
                            out[q + 1][r0 + i][2] = w[i * 4 + 2] == w[i * 4 + 3] ? 1 : 0;
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * Tokens per layer-major pass: the residual streams of every model (original + candidates) for the pass stay
     * resident, so the pass is sized to an eighth of the backend's free memory (at most 4 GiB, at least one batch).
     */
    static int passTokens(Backend b, int models, int hidden) {
        long budget = Math.min(4L << 30, b.memoryAvailable() / 8);
        long tokens = budget / ((long) models * hidden * Float.BYTES);
        return (int) Math.max(BATCH_TOKENS, Math.min(1 << 16, tokens));
    }

    /** Consecutive batches grouped into passes of at most {@code passTokens} tokens (at least one batch each). */
    static List<List<List<Sample>>> passes(List<List<Sample>> batches, int passTokens) {
        List<List<List<Sample>>> out = new ArrayList<>();
        List<List<Sample>> cur = new ArrayList<>();
        long n = 0;
        for (List<Sample> batch : batches) {
            long t = batch.stream().mapToLong(x -> x.ids().length).sum();
            if (!cur.isEmpty() && n + t > passTokens) {
                out.add(cur);
                cur = new ArrayList<>();
                n = 0;
            }
            cur.add(batch);
            n += t;
        }
        if (!cur.isEmpty()) out.add(cur);
        return out;
    }

    /** Samples packed into forward batches of at most BATCH_TOKENS tokens (a longer sample gets its own). */
    private static List<List<Sample>> batches(List<Sample> samples) {
        List<List<Sample>> out = new ArrayList<>();
        List<Sample> cur = new ArrayList<>();
        int n = 0;
        for (Sample s : samples) {
            if (!cur.isEmpty() && n + s.ids().length > BATCH_TOKENS) {
                out.add(cur);
                cur = new ArrayList<>();
                n = 0;
            }
            cur.add(s);
            n += s.ids().length;
        }
        if (!cur.isEmpty()) out.add(cur);
        return out;
    }

    static String name(Path p) {
        return p.toAbsolutePath().normalize().getFileName().toString();
    }
}
