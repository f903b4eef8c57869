package org.routecal.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import org.routecal.compute.cpu.CpuThreads;
import org.routecal.compute.cpu.DoubleMatmul;
import org.routecal.compute.cpu.QuadraticForms;

/**
 * tr(ΔW·H·ΔWᵀ) — AWQ's Gram-form loss and the bit allocation's output error — on Qwen3-30B-A3B expert shapes
 * (gate/up 768 × 2048, down 2048 × 768): {@link QuadraticForms} (double tiles, the kernels' pool) beside the scalar
 * loop it replaced (one dot of H's row with d per input, on a parallel stream, as the code was), interleaved, as JSON;
 * the routed-expert loss from its tokens' rows against from their Gram matrix ({@link #fromRows}); and the MoE-block
 * loss's per-expert MLP ({@link #mlp}).
 * Usage: {@code java --add-modules jdk.incubator.vector -cp … org.routecal.bench.QuadraticFormBench [--out FILE] [--samples N]}
 */
public final class QuadraticFormBench {
    private QuadraticFormBench() {}

    public static void main(String[] args) throws IOException {
        Path out = Path.of("bench/results/quadratic-form.json");
        int samples = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--samples" -> samples = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (valid: --out, --samples)");
            }
        }
        ForkJoinPool pool = CpuThreads.sharedPool();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("format", "routecal.bench.quadratic_form");
        r.put("format_version", 1);
        r.put("machine", CpuKernelBench.machine());
        r.put("threads", CpuThreads.defaultThreads());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int[] shape : new int[][]{{768, 2048}, {2048, 768}}) {
            int n = shape[0], cols = shape[1];
            Random rnd = new Random(n * 7L + cols);
            float[] w = new float[n * cols], q = new float[n * cols];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) rnd.nextGaussian();
                q[i] = w[i] + (float) (0.01 * rnd.nextGaussian());
            }
            double[] h = CpuKernelBench.spd(cols);
            double[] got = new double[2];
            double[][] t = CpuKernelBench.interleaved(samples, 0.0,
                    () -> got[0] = QuadraticForms.traceOfDifference(w, q, n, cols, h, pool),
                    () -> got[1] = scalarLoop(w, q, h, n, cols));
            double macs = (double) n * cols * cols;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("rows", n);
            row.put("cols", cols);
            putTimings(row, t, macs);
            row.put("relative_difference", Math.abs(got[0] - got[1]) / Math.abs(got[1]));
            rows.add(row);
            System.err.println(row);
        }
        r.put("shapes", rows);
        r.put("expert_down_loss", fromRows(pool, samples));
        r.put("moe_mlp", mlp(samples));
        PanelBlockingSweep.writeJson(out, r);
    }

    /**
     * AWQ's MoE-block loss evaluates each expert's MLP on its routed tokens at every grid point: batched on double tiles
     * ({@link DoubleMatmul}, X·gateᵀ, X·upᵀ, silu·mul, ·downᵀ) beside the scalar loop it replaced (a token at a time),
     * one expert of Qwen3-30B-A3B geometry (hidden 2048, inter 768) on one thread, for a few token counts.
     */
    static List<Map<String, Object>> mlp(int samples) {
        int hidden = 2048, inter = 768;
        Random rnd = new Random(11);
        float[] gate = new float[inter * hidden], up = new float[inter * hidden], down = new float[hidden * inter];
        for (float[] w : new float[][]{gate, up, down}) for (int i = 0; i < w.length; i++) w[i] = (float) (0.02 * rnd.nextGaussian());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int k : new int[]{16, 128, 512}) {
            float[] x = new float[k * hidden];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            double[] got = new double[2];
            double[][] t = CpuKernelBench.interleaved(samples, 0.0, () -> {
                double[] xd = new double[k * hidden];
                for (int i = 0; i < xd.length; i++) xd[i] = x[i];
                double[] g = DoubleMatmul.timesTransposed(xd, k, hidden, gate, inter), u = DoubleMatmul.timesTransposed(xd, k, hidden, up, inter);
                for (int i = 0; i < g.length; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                got[0] = DoubleMatmul.timesTransposed(g, k, inter, down, hidden)[k * hidden - 1];
            }, () -> {
                double[] y = null;
                for (int tok = 0; tok < k; tok++) y = scalarMlp(x, tok, hidden, inter, gate, up, down);
                got[1] = y[hidden - 1];
            });
            double macs = 3.0 * k * hidden * inter;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("tokens", k);
            row.put("hidden", hidden);
            row.put("inter", inter);
            putTimings(row, t, macs);
            row.put("relative_difference_last_output", Math.abs(got[0] - got[1]) / Math.abs(got[1]));
            rows.add(row);
            System.err.println(row);
        }
        return rows;
    }

    /**
     * AWQ's loss for a routed expert's down_proj (2048 × 768) on its n tokens: from their Gram matrix (rows·cols² per
     * evaluation, the form used for every expert before) against from the rows themselves (rows·cols·n), which AWQ
     * now takes while n < cols.
     */
    static List<Map<String, Object>> fromRows(ForkJoinPool pool, int samples) {
        int out = 2048, cols = 768;
        Random rnd = new Random(5);
        float[] w = new float[out * cols], q = new float[out * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian();
            q[i] = w[i] + (float) (0.01 * rnd.nextGaussian());
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int n : new int[]{16, 128, 512}) {
            float[] x = new float[n * cols], c = new float[n];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            for (int t = 0; t < n; t++) c[t] = 0.5f + rnd.nextFloat();
            double[] h = new double[cols * cols];
            for (int t = 0; t < n; t++) for (int i = 0; i < cols; i++) for (int j = 0; j < cols; j++) h[i * cols + j] += (double) c[t] * x[t * cols + i] * x[t * cols + j];
            double[] got = new double[2];
            double[][] t = CpuKernelBench.interleaved(samples, 0.0,
                    () -> got[0] = QuadraticForms.traceOfDifference(w, q, out, cols, x, n, c, pool),
                    () -> got[1] = QuadraticForms.traceOfDifference(w, q, out, cols, h, pool));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("tokens", n);
            row.put("rows", out);
            row.put("cols", cols);
            putTimings(row, t, (double) out * cols * n, "from_rows", "from_gram");
            row.put("relative_difference", Math.abs(got[0] - got[1]) / Math.abs(got[1]));
            rows.add(row);
            System.err.println(row);
        }
        return rows;
    }

    /** Medians of the tiles (t[0]) and the scalar loop (t[1]), the tiles' GFLOP/s for macs multiply-adds, the speed-up. */
    private static void putTimings(Map<String, Object> row, double[][] t, double macs) {
        putTimings(row, t, macs, "tiles", "scalar_loop");
    }

    /** As above with the two variants named: {first}_seconds_median, {second}_seconds_median, {first}_gflops_median. */
    private static void putTimings(Map<String, Object> row, double[][] t, double macs, String first, String second) {
        double a = CpuKernelBench.median(t[0]), b = CpuKernelBench.median(t[1]);
        row.put(first + "_seconds_median", CpuKernelBench.round(a));
        row.put(second + "_seconds_median", CpuKernelBench.round(b));
        row.put(first + "_gflops_median", CpuKernelBench.round(2 * macs / a / 1e9));
        row.put("speedup", CpuKernelBench.round(b / a));
    }

    /** The former MoeBlockLoss.mlpOutput: one token's gated MLP in scalar doubles. */
    static double[] scalarMlp(float[] x, int t, int hidden, int inter, float[] gate, float[] up, float[] down) {
        int xb = t * hidden;
        double[] a = new double[inter];
        for (int i = 0; i < inter; i++) {
            double g = 0, u = 0;
            int wb = i * hidden;
            for (int c = 0; c < hidden; c++) {
                g += (double) gate[wb + c] * x[xb + c];
                u += (double) up[wb + c] * x[xb + c];
            }
            a[i] = g / (1 + Math.exp(-g)) * u;
        }
        double[] y = new double[hidden];
        for (int h = 0; h < hidden; h++) {
            double s = 0;
            for (int i = 0; i < inter; i++) s += down[h * inter + i] * a[i];
            y[h] = s;
        }
        return y;
    }

    /** The former ExpertSensitivity.outputError: per row, Σ_i d_i Σ_j H_ij d_j in scalar doubles, rows on a parallel stream. */
    static double scalarLoop(float[] w, float[] q, double[] h, int rows, int cols) {
        return IntStream.range(0, rows).parallel().mapToDouble(r -> {
            double[] d = new double[cols];
            for (int i = 0; i < cols; i++) d[i] = (double) w[r * cols + i] - q[r * cols + i];
            double s = 0;
            for (int i = 0; i < cols; i++) {
                if (d[i] == 0) continue;
                double hi = 0;
                for (int j = 0; j < cols; j++) hi += h[i * cols + j] * d[j];
                s += d[i] * hi;
            }
            return s;
        }).sum();
    }
}
