package org.routecal.route;

import org.routecal.compute.cpu.Backends;
import org.routecal.model.ForwardTaps;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.model.RandomModels;
import org.routecal.pipeline.Progress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tokens/s of route capture + statistics on a mid-size random Qwen3-MoE (default hidden 512, 8 MoE layers × 32
 * experts, top-4, expert width 256, vocab 8000), against the bare forward pass. Not a unit test:
 * {@code java -cp … org.routecal.route.RouteBench [tokens [hidden [experts [topK]]]]}.
 */
public final class RouteBench {
    /** CPU time of the whole process (all threads), robust to other load on the machine. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static int arg(String[] a, int i, int def) { return a.length > i ? Integer.parseInt(a[i]) : def; }

    public static void main(String[] args) throws Exception {
        int tokens = arg(args, 0, 1024), hidden = arg(args, 1, 512), experts = arg(args, 2, 32), topK = arg(args, 3, 4), seq = 256;
        int vocab = 8000;
        ModelConfig c = ModelConfig.of(java.util.Map.ofEntries(java.util.Map.entry("model_type", "qwen3_moe"),
                java.util.Map.entry("vocab_size", vocab), java.util.Map.entry("hidden_size", hidden),
                java.util.Map.entry("num_hidden_layers", 8), java.util.Map.entry("num_attention_heads", 8),
                java.util.Map.entry("num_key_value_heads", 4), java.util.Map.entry("rope_theta", 1e6),
                java.util.Map.entry("max_position_embeddings", 40960), java.util.Map.entry("intermediate_size", 1024),
                java.util.Map.entry("num_experts", experts), java.util.Map.entry("num_experts_per_tok", topK),
                java.util.Map.entry("moe_intermediate_size", 256), java.util.Map.entry("norm_topk_prob", true)));
        try (MoeModel model = RandomModels.create(c, 7, org.routecal.compute.devices.Devices.cpu())) {
            SplittableRandom rnd = new SplittableRandom(3);
            List<RoutedSample> samples = new ArrayList<>();
            for (int s = 0; s < tokens / seq; s++) {
                int[] ids = new int[seq], cs = new int[seq], ce = new int[seq];
                for (int i = 0; i < seq; i++) {
                    ids[i] = rnd.nextInt(vocab);
                    cs[i] = i;
                    ce[i] = i + 1;
                }
                samples.add(new RoutedSample(String.valueOf(s), s % 2 == 0 ? "a" : "b", "x".repeat(seq), ids, cs, ce));
            }
            model.forwardBatch(List.of(samples.get(0).tokenIds()), ForwardTaps.NONE).close(); // warm-up
            long t0 = System.nanoTime(), c0 = cpuNanos();
            for (int s = 0; s < samples.size(); s += 4) {
                model.forwardBatch(samples.subList(s, Math.min(samples.size(), s + 4)).stream().map(RoutedSample::tokenIds).toList(),
                        ForwardTaps.NONE).close();
            }
            double fwd = (System.nanoTime() - t0) / 1e9, fwdCpu = (cpuNanos() - c0) / 1e9;
            System.out.printf("model: hidden %d, 8 MoE layers x %d experts, top-%d, expert width 256; %d tokens%n", hidden, experts, topK, tokens);
            System.out.printf("backend %s, %d threads; forward only: %.1f tokens/s wall, %.1f tokens per CPU-second%n",
                    model.backend().name(), Runtime.getRuntime().availableProcessors(), tokens / fwd, tokens / fwdCpu);
            for (boolean rtn : new boolean[]{false, true}) {
                Path out = Files.createTempDirectory("route-bench");
                RouteParams p = RouteParams.defaults().withBatchTokens(2048);
                p = new RouteParams(p.target(), p.freqThr(), p.lessThr(), p.robThr(), p.senThr(), p.ranking(), p.balanceBoxes(), p.qBoxes(),
                        p.batchTokens(), false, rtn, false);
                long rc0 = cpuNanos();
                RouteResult r = RouteStage.run(model, samples, id -> "", p, out, Map.of(), Map.of(), Progress.NONE);
                double cpu = (cpuNanos() - rc0) / 1e9;
                Map<String, Double> t = r.timings();
                System.out.printf("route (rtn sensitivity %s): capture+counts %.1f tokens/s (forward %.1f s of %.1f s), "
                                + "scoring pass %.1f tokens/s, total %.1f s (%.1f tokens per CPU-second); routing.parquet %d bytes%n", rtn ? "on" : "off",
                        tokens / t.get("capture_seconds"), t.get("forward_seconds"), t.get("capture_seconds"),
                        tokens / t.get("score_seconds"), t.get("total_seconds"), tokens / cpu, Files.size(out.resolve(RouteRunDir.ROUTING)));
            }
        }
    }
}
