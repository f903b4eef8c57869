package org.routecal.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.compute.cpu.Backends;
import org.routecal.corpus.Sample;
import org.routecal.model.CalibrationMode;
import org.routecal.model.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Progress;
import org.routecal.quant.ct.CompressedTensorsReader;

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

    public record Result(Path out, List<ModelMetrics> models, int samples) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(String.format("%-24s %10s %10s %10s %8s %8s%n", "model", "tokens", "ppl", "kl", "top1", "router"));
            for (ModelMetrics m : models) {
                double ra = m.routerAgreement().values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
                sb.append(String.format("%-24s %10d %10.4f %10s %8s %8s%n", m.name(), m.tokens(), m.ppl(),
                        m.kl() == null ? "-" : String.format("%.5f", m.kl()), m.top1() == null ? "-" : String.format("%.4f", m.top1()),
                        m.routerAgreement().isEmpty() ? "-" : String.format("%.4f", ra)));
            }
            return sb.append(samples).append(" samples; ").append(out).append("/{eval.parquet,eval.json,eval.html}").toString();
        }
    }

    /** Loads a quantized checkpoint (compressed-tensors, dequantized) or a plain HF one. */
    static MoeModel load(Path dir, long cacheBytes) {
        if (CompressedTensorsReader.isCompressedTensors(dir)) {
            return new MoeModel(dir, ModelConfig.load(dir), CompressedTensorsReader.open(dir), Backends.select(), cacheBytes);
        }
        return MoeModel.load(dir);
    }

    public static Result run(Path modelDir, List<Path> quantized, List<Sample> samples, Path out, boolean overwrite, Progress progress) {
        return run(modelDir, quantized, samples, out, overwrite, Map.of(), progress);
    }

    /**
     * As above; {@code inputs} names the corpus (a Path: hashed in the manifest, never overlapped by {@code out}) and
     * carries the corpus loader's summary (a Map, recorded as results). Writes through a staged {@link OutputDir}.
     */
    public static Result run(Path modelDir, List<Path> quantized, List<Sample> samples, Path out, boolean overwrite,
                             Map<String, Object> inputs, Progress progress) {
        try (OutputDir dir = EvalOutputs.open(out, overwrite, modelDir, quantized, inputs)) {
            long t0 = System.nanoTime();
            Result r = evaluate(modelDir, quantized, samples, dir, progress);
            dir.writeManifest(EvalOutputs.manifest(dir.path(), modelDir, quantized, inputs, r, (System.nanoTime() - t0) / 1e9));
            dir.commit();
            return r;
        }
    }

    private static Result evaluate(Path modelDir, List<Path> quantized, List<Sample> samples, OutputDir dir, Progress progress) {
        Path target = dir.target();
        long cache = Math.max(64L << 20, Runtime.getRuntime().maxMemory() / (3L * (quantized.size() + 1)));
        List<MoeModel> models = new ArrayList<>();
        try {
            models.add(load(modelDir, cache));
            for (Path q : quantized) models.add(load(q, cache));
            ModelConfig cfg = models.get(0).config();
            int vocab = cfg.vocabSize(), nq = quantized.size();
            // accumulators per quantized model
            long[] tokens = new long[nq + 1];
            double[] nll = new double[nq + 1], kl = new double[nq + 1];
            long[] top1 = new long[nq + 1];
            List<Map<Integer, long[]>> router = new ArrayList<>(); // layer → {same, total}
            double[][][] expNum = new double[nq][cfg.layerCount()][cfg.expertCount()], expDen = new double[nq][cfg.layerCount()][cfg.expertCount()];
            long[][][] expCount = new long[nq][cfg.layerCount()][cfg.expertCount()];
            for (int i = 0; i <= nq; i++) router.add(new LinkedHashMap<>());
            List<Object[]> rows = new ArrayList<>();
            progress.start("evaluate samples", samples.size());
            for (Sample s : samples) {
                if (s.ids().length < 2) continue;
                int pos = s.ids().length - 1;
                RoutingRecorder ro = new RoutingRecorder(true);
                float[] lo = models.get(0).forward(List.of(s.ids()), ro, CalibrationMode.ROUTED, true).logits();
                double n0 = SequenceMetrics.nllSum(lo, s.ids(), vocab);
                tokens[0] += pos;
                nll[0] += n0;
                rows.add(new Object[]{"original", s.sampleId(), s.domain(), pos, n0 / pos, Math.exp(n0 / pos), null, null, null});
                for (int q = 1; q <= nq; q++) {
                    RoutingRecorder rq = new RoutingRecorder(false);
                    float[] lq = models.get(q).forward(List.of(s.ids()), rq, CalibrationMode.ROUTED, true).logits();
                    double nqs = SequenceMetrics.nllSum(lq, s.ids(), vocab), kls = SequenceMetrics.klSum(lo, lq, pos, vocab);
                    int agree = SequenceMetrics.top1Agree(lo, lq, pos, vocab);
                    long same = 0, total = 0;
                    for (Map.Entry<Integer, int[]> e : ro.topk.entrySet()) {
                        int layer = e.getKey(), tk = s.ids().length, k = ro.topK;
                        int sm = SequenceMetrics.sameTopK(e.getValue(), rq.topk.get(layer), tk, k);
                        long[] acc = router.get(q).computeIfAbsent(layer, l -> new long[2]);
                        acc[0] += sm;
                        acc[1] += tk;
                        same += sm;
                        total += tk;
                        ExpertError.accumulate(models.get(0).weights(), models.get(q).weights(), cfg.family().tensors(), layer,
                                cfg.expertCount(), cfg.hiddenSize(), cfg.expertIntermediateSize(), ro.blockInput.get(layer), e.getValue(), tk, k,
                                expNum[q - 1][layer], expDen[q - 1][layer], expCount[q - 1][layer]);
                    }
                    tokens[q] += pos;
                    nll[q] += nqs;
                    kl[q] += kls;
                    top1[q] += agree;
                    rows.add(new Object[]{name(quantized.get(q - 1)), s.sampleId(), s.domain(), pos, nqs / pos, Math.exp(nqs / pos),
                            kls / pos, agree / (double) pos, total == 0 ? null : same / (double) total});
                }
                progress.advance(1);
            }
            progress.finish();
            List<ModelMetrics> metrics = new ArrayList<>();
            for (int q = 0; q <= nq; q++) {
                Map<Integer, Double> ra = new LinkedHashMap<>();
                for (Map.Entry<Integer, long[]> e : router.get(q).entrySet()) ra.put(e.getKey(), e.getValue()[0] / (double) e.getValue()[1]);
                double mean = nll[q] / Math.max(1, tokens[q]);
                metrics.add(new ModelMetrics(q == 0 ? "original" : name(quantized.get(q - 1)), q == 0 ? modelDir.toString() : quantized.get(q - 1).toString(),
                        tokens[q], mean, Math.exp(mean), q == 0 ? null : kl[q] / tokens[q], q == 0 ? null : top1[q] / (double) tokens[q], ra));
            }
            List<Object[]> experts = new ArrayList<>();
            for (int q = 0; q < nq; q++)
                for (int l = 0; l < cfg.layerCount(); l++)
                    for (int e = 0; e < cfg.expertCount(); e++)
                        if (expCount[q][l][e] > 0) experts.add(new Object[]{name(quantized.get(q)), l, e, expCount[q][l][e],
                                expDen[q][l][e] == 0 ? 0.0 : expNum[q][l][e] / expDen[q][l][e]});
            EvalOutputs.write(dir.path(), rows, experts, metrics);
            return new Result(target, metrics, samples.size());
        } finally {
            for (MoeModel m : models) {
                try {
                    m.close();
                } catch (Exception ignored) {
                    // closing a memory map: nothing to recover
                }
            }
        }
    }

    static String name(Path p) {
        return p.toAbsolutePath().normalize().getFileName().toString();
    }
}
