package org.routecal.compute.cpu;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.routecal.compute.AttentionLayout;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;

/**
 * Prefill attention of one sequence on the CPU, blocked ({@link AttentionKernel#sequence}) against the per-key loop
 * ({@link AttentionKernel#perKey}) over the same Vector API ops and inputs, interleaved in one run; writes JSON with
 * both medians, the speed-up and the largest difference. Usage:
 * {@code java --add-modules jdk.incubator.vector -cp routecal.jar org.routecal.compute.cpu.AttentionBench
 * [--tokens 512] [--heads 16] [--kv-heads 4] [--head-dim 64] [--repeats 15] [--out FILE]}
 */
public final class AttentionBench {
    private AttentionBench() {}

    public static void main(String[] args) throws Exception {
        int tokens = 512, heads = 16, kvHeads = 4, hd = 64, repeats = 15;
        Path out = Path.of("bench/results/attention-cpu.json");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tokens" -> tokens = Integer.parseInt(args[++i]);
                case "--heads" -> heads = Integer.parseInt(args[++i]);
                case "--kv-heads" -> kvHeads = Integer.parseInt(args[++i]);
                case "--head-dim" -> hd = Integer.parseInt(args[++i]);
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        SplittableRandom rnd = new SplittableRandom(1);
        float[] q = gaussian(rnd, tokens * heads * hd), k = gaussian(rnd, tokens * kvHeads * hd), v = gaussian(rnd, tokens * kvHeads * hd);
        float[] blockedOut = new float[tokens * heads * hd], perKeyOut = new float[blockedOut.length];
        int[] start = {0, tokens};
        AttentionLayout l = new AttentionLayout(heads, kvHeads, hd, (float) (1 / Math.sqrt(hd)), 0, null, start, null, start);
        AttentionKernel.Operands blocked = new AttentionKernel.Operands(q, 0, heads * hd, k, 0, kvHeads * hd, v, 0, kvHeads * hd, blockedOut, 0, heads * hd, null);
        AttentionKernel.Operands perKey = new AttentionKernel.Operands(q, 0, heads * hd, k, 0, kvHeads * hd, v, 0, kvHeads * hd, perKeyOut, 0, heads * hd, null);
        VectorOps ops = new VectorOps(CpuThreads.defaultThreads());
        for (int i = 0; i < 10; i++) { // warm-up: both paths compiled by C2 before timing
            AttentionKernel.sequence(0, l, blocked);
            AttentionKernel.perKey(ops, 0, l, perKey);
        }
        double[] tb = new double[repeats], tp = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            AttentionKernel.sequence(0, l, blocked);
            tb[i] = (System.nanoTime() - t0) / 1e6;
            t0 = System.nanoTime();
            AttentionKernel.perKey(ops, 0, l, perKey);
            tp[i] = (System.nanoTime() - t0) / 1e6;
        }
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < blockedOut.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(blockedOut[i] - perKeyOut[i]));
            maxAbs = Math.max(maxAbs, Math.abs(perKeyOut[i]));
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("format", "routecal.bench.attention_cpu");
        r.put("format_version", 1);
        r.put("shape", Map.of("tokens", tokens, "heads", heads, "kv_heads", kvHeads, "head_dim", hd, "causal", true));
        r.put("threads", CpuThreads.defaultThreads());
        r.put("kernels", MatmulKernels.describe());
        r.put("java", System.getProperty("java.version"));
        r.put("blocked_ms_median", median(tb));
        r.put("per_key_ms_median", median(tp));
        r.put("speedup", median(tp) / median(tb));
        r.put("blocked_gflops", 4.0 * heads * hd * (tokens * (tokens + 1) / 2.0) / (median(tb) * 1e6));
        r.put("max_abs_difference", maxDiff);
        r.put("max_abs_value", maxAbs);
        String json = Json.PRETTY.writeValueAsString(r);
        AtomicFiles.writeString(out, json);
        System.out.println(json);
    }

    private static float[] gaussian(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
