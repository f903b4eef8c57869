package org.routecal.quant.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.quant.gptq.GptqSolver;
import org.routecal.quant.gptq.PreparedHessian;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.ScaleDType;

/**
 * GPTQ cost of one MoE layer on CPU at Qwen3-30B-A3B geometry (hidden 2048, moe_intermediate 768, 128 experts,
 * top-8, ~8k calibration tokens), random weights and activations, W4A16 g128:
 * <ul>
 *   <li>per-expert: every gate_proj/up_proj factorises its own Hessian (routed mode: one per module);</li>
 *   <li>shared: all mode — every expert's gate/up share the layer's block-input Hessian, factorised once.</li>
 * </ul>
 * down_proj Hessians differ per expert in both variants. Runs {@code --experts N} experts (default 4) and
 * extrapolates linearly to 128, stating so; every step is warmed up first (version 3 of the record). Usage:
 * {@code java -cp routecal.jar org.routecal.quant.bench.GptqMoeBench [--experts N] [--tokens T] [--out FILE]}
 */
public final class GptqMoeBench {
    private GptqMoeBench() {}

    public static void main(String[] args) throws IOException {
        int experts = 4, tokens = 8192, hidden = 2048, inter = 768, topK = 8, fullExperts = 128;
        Path out = Path.of("bench/results/gptq_moe_layer.json");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--experts" -> experts = Integer.parseInt(args[++i]);
                case "--tokens" -> tokens = Integer.parseInt(args[++i]);
                case "--hidden" -> hidden = Integer.parseInt(args[++i]);
                case "--inter" -> inter = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Random rnd = new Random(1);
        QuantScheme scheme = new IntScheme(4, true, 128, ScaleDType.BF16);
        GptqArgs gargs = GptqArgs.DEFAULT;
        // X: [tokens, hidden] block inputs with a low-rank correlated part, as real post-norm activations have
        float[] x = new float[tokens * hidden];
        float[] basis = new float[32 * hidden];
        for (int i = 0; i < basis.length; i++) basis[i] = (float) rnd.nextGaussian();
        for (int t = 0; t < tokens; t++) {
            for (int k = 0; k < 32; k++) {
                float c = (float) rnd.nextGaussian() * 0.3f;
                for (int h = 0; h < hidden; h++) x[t * hidden + h] += c * basis[k * hidden + h];
            }
            for (int h = 0; h < hidden; h++) x[t * hidden + h] += (float) rnd.nextGaussian();
        }
        warmUp(scheme, gargs, rnd, hidden, inter);
        long t0 = System.nanoTime();
        double[] hAll = xtx(x, tokens, hidden, null);
        double hAllSec = sec(t0);
        int routedPerExpert = tokens * topK / fullExperts;
        List<float[]> gates = new ArrayList<>(), ups = new ArrayList<>(), downs = new ArrayList<>();
        List<double[]> hRouted = new ArrayList<>(), hDown = new ArrayList<>();
        double routedHessSec = 0, downHessSec = 0;
        for (int e = 0; e < experts; e++) {
            gates.add(randomW(rnd, inter, hidden));
            ups.add(randomW(rnd, inter, hidden));
            downs.add(randomW(rnd, hidden, inter));
            int[] rows = new int[routedPerExpert];
            for (int r = 0; r < rows.length; r++) rows[r] = rnd.nextInt(tokens);
            long t1 = System.nanoTime();
            hRouted.add(xtx(x, tokens, hidden, rows));
            routedHessSec += sec(t1);
            float[] g = new float[routedPerExpert * inter]; // expert intermediate activations, random stand-in
            for (int i = 0; i < g.length; i++) g[i] = (float) (rnd.nextGaussian() * rnd.nextGaussian());
            long t2 = System.nanoTime();
            hDown.add(xtx(g, routedPerExpert, inter, null));
            downHessSec += sec(t2);
        }
        // Timed per operation and interleaved (expert e: its own factorisation, then the shared one again, then the
        // sweeps), so a noisy, shared machine slows both variants alike; medians are extrapolated.
        double[] prepOwn = new double[experts], prepShared = new double[experts], sweepGateUp = new double[experts], down = new double[experts];
        PreparedHessian shared = null;
        for (int e = 0; e < experts; e++) {
            long a = System.nanoTime();
            GptqSolver.prepare("own", hRouted.get(e), hidden, gargs);
            prepOwn[e] = sec(a);
            long b = System.nanoTime();
            shared = GptqSolver.prepare("shared", hAll, hidden, gargs);
            prepShared[e] = sec(b);
            long c = System.nanoTime();
            GptqSolver.solve("gate", scheme, gates.get(e), inter, hidden, shared, gargs, Float.NaN);
            GptqSolver.solve("up", scheme, ups.get(e), inter, hidden, shared, gargs, Float.NaN);
            sweepGateUp[e] = sec(c);
            long d = System.nanoTime();
            GptqSolver.quantize("down", scheme, downs.get(e), hidden, inter, hDown.get(e), gargs, Float.NaN);
            down[e] = sec(d);
        }
        double mPrepOwn = median(prepOwn), mPrepShared = median(prepShared), mSweep = median(sweepGateUp), mDown = median(down);
        double mRoutedHess = routedHessSec / experts, mDownHess = downHessSec / experts;
        // one solve per expert: each expert factorises its own gate/up Hessian (gate and up share it, as the stage does)
        double perExpertLayer = fullExperts * (mRoutedHess + mPrepOwn + mSweep + mDownHess + mDown);
        // shared: the block-input Hessian accumulated and factorised once for all experts' gate/up
        double sharedLayer = hAllSec + mPrepShared + fullExperts * (mSweep + mDownHess + mDown);
        String json = String.format(Locale.ROOT, """
                {"format": "routecal.bench.gptq_moe_layer", "format_version": 3,
                 "geometry": {"hidden": %d, "moe_intermediate": %d, "experts_full": %d, "experts_run": %d, "top_k": %d, "tokens": %d, "routed_tokens_per_expert": %d},
                 "scheme": "w4a16 g128 sym, GPTQ block 128, damp 0.01, act-order static",
                 "cpu": {"available_processors": %d, "java": "%s"},
                 "measured_seconds": {"hessian_all_tokens_once": %.3f, "hessian_routed_gate_up_per_expert": %.3f, "hessian_down_per_expert_routed": %.3f,
                   "factorisation_2048_own_median": %.3f, "factorisation_2048_shared_median": %.3f,
                   "sweeps_gate_plus_up_per_expert_median": %.3f, "down_proj_gptq_per_expert_median": %.3f},
                 "extrapolated_to_full_layer_seconds": {"note": "medians × %d experts; the shared factorisation and the all-token Hessian once. down_proj Hessians counted on routed tokens in both variants",
                   "one_solve_per_expert": %.1f, "shared_hessian_batch": %.1f}}
                """, hidden, inter, fullExperts, experts, topK, tokens, routedPerExpert,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                hAllSec, mRoutedHess, mDownHess, mPrepOwn, mPrepShared, mSweep, mDown, fullExperts, perExpertLayer, sharedLayer);
        org.routecal.io.AtomicFiles.writeString(out, json);
        System.out.print(json);
    }

    /**
     * Runs every timed step once on a small problem first, so the timings are of JIT-compiled code: a cold run spends
     * its first seconds in the interpreter (for the Vector API, its Java fallback), which a whole model amortises.
     */
    static void warmUp(QuantScheme scheme, GptqArgs gargs, Random rnd, int hidden, int inter) {
        float[] xs = new float[256 * hidden];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rnd.nextGaussian();
        for (int rep = 0; rep < 3; rep++) {
            double[] h = xtx(xs, 256, hidden, null);
            for (int i = 0; i < hidden; i++) h[i * hidden + i] += 1;
            PreparedHessian p = GptqSolver.prepare("warm-up", h, hidden, gargs);
            GptqSolver.solve("warm-up", scheme, randomW(rnd, 64, hidden), 64, hidden, p, gargs, Float.NaN);
            double[] hd = xtx(xs, 64, inter, null);
            for (int i = 0; i < inter; i++) hd[i * inter + i] += 1;
            GptqSolver.quantize("warm-up", scheme, randomW(rnd, 128, inter), 128, inter, hd, gargs, Float.NaN);
        }
    }

    /** XᵀX over the given rows (null = all) of x [tokens, cols]; upper triangle accumulated, then mirrored. */
    static double[] xtx(float[] x, int tokens, int cols, int[] rows) {
        double[] h = new double[cols * cols];
        if (rows == null) {
            rows = new int[tokens];
            for (int i = 0; i < tokens; i++) rows[i] = i;
        }
        // the production accumulation (rows with weight 1); 2× is irrelevant to GPTQ (scale-invariant)
        float[] xs = new float[rows.length * cols];
        for (int i = 0; i < rows.length; i++) System.arraycopy(x, rows[i] * cols, xs, i * cols, cols);
        org.routecal.quant.HessianAccumulation.accumulate(org.routecal.compute.devices.Devices.cpu(), h, cols, xs, rows.length);
        for (int a = 0; a < cols; a++) for (int b = 0; b < a; b++) h[a * cols + b] = h[b * cols + a];
        return h;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static float[] randomW(Random rnd, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian() * 0.02f;
        return w;
    }

    static double sec(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
