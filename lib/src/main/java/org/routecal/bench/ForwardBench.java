package org.routecal.bench;

import org.routecal.compute.Ops;
import org.routecal.compute.cpu.Backends;
import org.routecal.compute.cpu.FmaPeak;
import org.routecal.model.ForwardTaps;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.model.RandomModels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * CPU forward-pass benchmark on a random Qwen3-MoE-shaped model: tokens/s of a full prefill, GFLOP/s of the core
 * matmul at the model's projection shapes, and both against the measured single-core FMA peak.
 */
public final class ForwardBench {
    public record Settings(int hidden, int layers, int experts, int topK, int expertIntermediate, int heads, int kvHeads,
                           int headDim, int vocab, int seq, int batch, int repeats, long seed) {}

    private ForwardBench() {}

    public static ModelConfig config(Settings s) {
        return ModelConfig.of(Map.ofEntries(Map.entry("model_type", "qwen3_moe"), Map.entry("vocab_size", s.vocab()),
                Map.entry("hidden_size", s.hidden()), Map.entry("num_hidden_layers", s.layers()),
                Map.entry("num_attention_heads", s.heads()), Map.entry("num_key_value_heads", s.kvHeads()),
                Map.entry("head_dim", s.headDim()), Map.entry("rms_norm_eps", 1e-6), Map.entry("rope_theta", 1e6),
                Map.entry("max_position_embeddings", 40960), Map.entry("intermediate_size", s.expertIntermediate() * 4),
                Map.entry("num_experts", s.experts()), Map.entry("num_experts_per_tok", s.topK()),
                Map.entry("moe_intermediate_size", s.expertIntermediate()), Map.entry("norm_topk_prob", true)));
    }

    public static Map<String, Object> run(Settings s) {
        Ops ops = Backends.select();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("settings", s);
        r.put("backend", ops.name());
        r.put("cores", Runtime.getRuntime().availableProcessors());
        r.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        r.put("cpu", cpuModel());
        double peak = FmaPeak.singleThreadGflops(3);
        r.put("fma_peak_gflops_per_core", round(peak));
        r.put("vector_bits", FmaPeak.vectorBits());

        // Core matmul: the attention projection shape, [seq, hidden] x [hidden, hidden]^T.
        int rows = s.seq(), in = s.hidden(), out = s.heads() * s.headDim();
        float[] x = random(rows * in, 1), w = random(out * in, 2), y = new float[rows * out];
        ops.matmulTransposed(x, rows, in, w, out, null, y); // warm-up
        double bestMatmul = 0;
        for (int i = 0; i < s.repeats() + 2; i++) {
            long t0 = System.nanoTime();
            ops.matmulTransposed(x, rows, in, w, out, null, y);
            bestMatmul = Math.max(bestMatmul, 2.0 * rows * in * out / (System.nanoTime() - t0));
        }
        int threads = org.routecal.compute.cpu.CpuThreads.defaultThreads();
        r.put("matmul_shape", rows + "x" + in + "x" + out);
        r.put("matmul_gflops", round(bestMatmul));
        r.put("matmul_gflops_per_thread", round(bestMatmul / threads));
        r.put("matmul_share_of_peak_per_core", round(bestMatmul / threads / peak));

        try (MoeModel model = RandomModels.create(config(s), s.seed(), new org.routecal.compute.cpu.CpuBackend(ops,
                org.routecal.compute.Precision.FP32, "bench"))) {
            SplittableRandom rnd = new SplittableRandom(s.seed());
            List<int[]> batch = new ArrayList<>();
            for (int b = 0; b < s.batch(); b++) {
                int[] seq = new int[s.seq()];
                for (int i = 0; i < seq.length; i++) seq[i] = rnd.nextInt(s.vocab());
                batch.add(seq);
            }
            model.forwardBatch(batch, ForwardTaps.NONE).close(); // warm-up
            double best = 0;
            for (int i = 0; i < s.repeats(); i++) {
                long t0 = System.nanoTime();
                model.forwardBatch(batch, ForwardTaps.NONE).close();
                best = Math.max(best, (double) s.seq() * s.batch() / ((System.nanoTime() - t0) / 1e9));
            }
            r.put("forward_tokens_per_s", round(best));
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
        return r;
    }

    /**
     * Forward pass of a checkpoint on given token ids (one sequence), for the side-by-side with HF transformers
     * (tests/cpu/side_by_side.py): tokens/s of the whole forward with the logits of every position, the work HF's
     * {@code model(ids).logits} does (median and best of {@code repeats} after warm-up passes: at least one, more until
     * {@code warmupSeconds} have passed, as the JIT compiles the hot loops over the first seconds), and the last
     * position's top-5 token ids, so the caller can check both implementations computed the same thing.
     */
    public static Map<String, Object> runCheckpoint(java.nio.file.Path dir, int[] tokens, int repeats, double warmupSeconds,
                                                    org.routecal.compute.Precision precision) {
        Ops ops = Backends.select();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", dir.toString());
        r.put("backend", ops.name());
        r.put("kernels", org.routecal.compute.cpu.MatmulKernels.describe());
        r.put("cores", Runtime.getRuntime().availableProcessors());
        r.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        r.put("cpu", cpuModel());
        r.put("tokens", tokens.length);
        r.put("precision", precision.id());
        try (MoeModel model = MoeModel.load(dir, new org.routecal.compute.cpu.CpuBackend(ops, precision, "bench"))) {
            List<int[]> batch = List.of(tokens);
            long warm0 = System.nanoTime();
            float[] lg = model.forwardLogits(batch, ForwardTaps.NONE); // warm-up; its logits give the top-5
            int warmups = 1;
            for (; System.nanoTime() - warm0 < warmupSeconds * 1e9; warmups++) model.forwardLogits(batch, ForwardTaps.NONE);
            r.put("warmup_passes", warmups);
            r.put("warmup_seconds", round((System.nanoTime() - warm0) / 1e9));
            double[] rates = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                model.forwardLogits(batch, ForwardTaps.NONE); // logits of every position, as HF's model(ids).logits
                rates[i] = tokens.length / ((System.nanoTime() - t0) / 1e9);
            }
            List<Double> inOrder = java.util.Arrays.stream(rates).map(ForwardBench::round).boxed().toList();
            java.util.Arrays.sort(rates);
            r.put("forward_tokens_per_s_median", round(rates[repeats / 2]));
            r.put("forward_tokens_per_s_best", round(rates[repeats - 1]));
            r.put("forward_tokens_per_s_each", inOrder); // in run order: a trend is warm-up, scatter is the machine
            int vocab = lg.length / tokens.length, last = (tokens.length - 1) * vocab;
            Integer[] ids = new Integer[vocab];
            for (int i = 0; i < vocab; i++) ids[i] = i;
            java.util.Arrays.sort(ids, (a, b) -> Float.compare(lg[last + b], lg[last + a]));
            r.put("last_position_top5", java.util.Arrays.asList(ids).subList(0, Math.min(5, vocab)));
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
        return r;
    }

    private static String cpuModel() {
        try {
            return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name")).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (Exception e) {
            return "?";
        }
    }

    private static double round(double v) { return Math.round(v * 1000) / 1000.0; }

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextDouble(-1, 1);
        return a;
    }
}
