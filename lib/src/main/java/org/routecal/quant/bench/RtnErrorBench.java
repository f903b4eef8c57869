package org.routecal.quant.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

/**
 * RTN error ΔW = RTN(W) − W of one Qwen3-30B-A3B MoE layer's expert matrices (128 experts × gate, up, down; 768 × 2048
 * each, W4 g128 symmetric, bf16 scales), what route's RTN-error sensitivity builds per layer: the general path
 * ({@code Rtn.quantize(…).dequantize() − W}) and the fused {@link Rtn#error}, side by side in one run on the same
 * matrices, experts in parallel as the tap runs them; median of {@code --repeats} after a warm-up. Usage:
 * {@code java --add-modules jdk.incubator.vector -cp routecal.jar org.routecal.quant.bench.RtnErrorBench [--matrices N] [--repeats R] [--out FILE]}
 */
public final class RtnErrorBench {
    private RtnErrorBench() {}

    public static void main(String[] args) throws IOException {
        int matrices = 384, rows = 768, cols = 2048, repeats = 5, distinct = 8;
        Path out = Path.of("bench/results/rtn-error.json");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--matrices" -> matrices = Integer.parseInt(args[++i]);
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        IntScheme scheme = new IntScheme(4, true, 128, ScaleDType.BF16);
        float[][] w = new float[distinct][rows * cols]; // matrices cycle through a few random ones (memory)
        Random r = new Random(0);
        for (float[] m : w) for (int i = 0; i < m.length; i++) m[i] = (float) (r.nextGaussian() * 0.02);
        int n = matrices;
        Runnable general = () -> IntStream.range(0, n).parallel().forEach(e -> {
            float[] q = Rtn.quantize(scheme, w[e % distinct], rows, cols).dequantize();
            for (int i = 0; i < q.length; i++) q[i] -= w[e % distinct][i];
        });
        Runnable fused = () -> IntStream.range(0, n).parallel().forEach(e -> Rtn.error(scheme, w[e % distinct], rows, cols));
        float[] a = Rtn.quantize(scheme, w[0], rows, cols).dequantize(), b = Rtn.error(scheme, w[0], rows, cols);
        for (int i = 0; i < a.length; i++) a[i] -= w[0][i];
        boolean equal = Arrays.equals(a, b);
        double g = median(general, repeats), f = median(fused, repeats);
        String json = String.format(Locale.ROOT, """
                {"format": "routecal.bench.rtn_error", "format_version": 1,
                 "shape": {"matrices": %d, "rows": %d, "cols": %d}, "scheme": "w4 g128 symmetric, bf16 scales",
                 "cpu": {"available_processors": %d, "java": "%s"}, "repeats": %d,
                 "seconds_median": {"quantize_dequantize_minus_w": %.3f, "fused_rtn_error": %.3f}, "speedup": %.2f,
                 "bit_equal": %s}
                """, matrices, rows, cols, Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), repeats,
                g, f, g / f, equal);
        org.routecal.io.AtomicFiles.writeString(out, json);
        System.out.print(json);
    }

    private static double median(Runnable run, int repeats) {
        run.run(); // warm-up: JIT-compiled code is what a layer-major route runs
        double[] t = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            run.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return t[repeats / 2];
    }
}
