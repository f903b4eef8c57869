package org.routecal.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.ejml.data.DGrowArray;
import org.ejml.data.DMatrixRBlock;
import org.ejml.data.DMatrixRMaj;
import org.ejml.data.DSubmatrixD1;
import org.ejml.dense.block.MatrixOps_DDRB;
import org.ejml.dense.block.TriangularSolver_MT_DDRB;
import org.ejml.dense.block.decomposition.chol.CholeskyOuterForm_MT_DDRB;
import org.routecal.compute.cpu.CholeskyKernels;
import org.routecal.compute.cpu.CpuThreads;
import org.routecal.compute.cpu.FmaPeak;
import org.routecal.compute.cpu.GramKernels;
import org.routecal.compute.cpu.MatmulKernels;
import org.routecal.compute.cpu.PanelBlocking;
import org.routecal.compute.cpu.PanelMatmul;
import org.routecal.compute.cpu.PanelWeights;
import pabeles.concurrency.GrowArray;

/**
 * CPU kernel benchmark, written as JSON (bench/results/cpu-kernels.json; bench/cpu_results.py renders
 * bench/CPU-RESULTS.md from it):
 * <ul>
 *   <li>matmul y = x·Wᵀ, float32 and bf16 weights, row-major (dot-product tiles) and in panels, at the bench-forward shapes and Qwen3-30B-A3B expert shapes
 *       (tokens 16…2048 × 2048 → 768, and the down projection), against the measured FMA peak × threads and the
 *       peak of all threads running FMAs at once;</li>
 *   <li>Cholesky + triangular inverse at 768² and 2048², ours against EJML 0.46.1's multi-threaded block Cholesky
 *       (CholeskyOuterForm_MT_DDRB) + block triangular inverse (TriangularSolver_MT_DDRB), same threads;</li>
 *   <li>XᵀX (upper triangle, double) for 2048 columns × N tokens.</li>
 * </ul>
 * Each figure is the median (and best) of interleaved samples: the build machine is shared, so variants are timed in
 * turn rather than one after the other. Lives in the test tree because EJML is a test-only dependency. Usage (from
 * the repository root, after {@code mvn -o -q -B -pl lib -am test-compile}):
 * {@code java --add-modules jdk.incubator.vector -cp lib/target/classes:lib/target/test-classes:$(cat cp.txt)
 * org.routecal.bench.CpuKernelBench [--out FILE] [--samples N]}
 */
public final class CpuKernelBench {
    private CpuKernelBench() {}

    public static void main(String[] args) throws IOException {
        Path out = Path.of("bench/results/cpu-kernels.json");
        int samples = 7;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--samples" -> samples = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (valid: --out, --samples)");
            }
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("format", "routecal.bench.cpu_kernels");
        r.put("format_version", 1);
        r.put("machine", machine());
        r.put("load_average_start", loadAverage());
        int threads = CpuThreads.defaultThreads();
        ForkJoinPool pool = CpuThreads.sharedPool();
        org.ejml.concurrency.EjmlConcurrency.setMaxThreads(threads); // EJML at the same thread count as ours
        double peak = FmaPeak.singleThreadGflops(5);
        r.put("threads", threads);
        r.put("kernels", MatmulKernels.describe());
        r.put("fma_peak_gflops_per_core", round(peak));
        r.put("fma_peak_gflops_all_threads", round(peak * threads));
        // every thread running FMAs at once: all-core vector clocks (and SMT siblings sold as cores) show here
        double peakAtOnce = threads == 1 ? peak : FmaPeak.allThreadsGflops(threads, 3);
        r.put("fma_peak_gflops_all_threads_at_once", round(peakAtOnce));
        r.put("matmul", matmul(samples, pool, peak * threads, peakAtOnce));
        r.put("panel_packing", packing(samples, pool));
        r.put("cholesky_inverse", cholesky(Math.max(3, samples / 2), pool, threads));
        r.put("xtx", gram(Math.max(3, samples / 2), pool));
        r.put("load_average_end", loadAverage());
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r);
        if (out.getParent() != null) Files.createDirectories(out.getParent());
        org.routecal.io.AtomicFiles.writeString(out, json);
        System.out.println(json);
    }

    static List<Map<String, Object>> matmul(int samples, ForkJoinPool pool, double peakAll, double peakAtOnce) {
        // name, rows (tokens), in, out
        Object[][] shapes = {
                {"bench-forward attention q/o projection", 512, 1024, 1024},
                {"bench-forward expert gate/up (64 routed tokens)", 64, 1024, 512},
                {"bench-forward expert down", 64, 512, 1024},
                {"Qwen3-30B-A3B expert gate/up", 16, 2048, 768},
                {"Qwen3-30B-A3B expert gate/up", 64, 2048, 768},
                {"Qwen3-30B-A3B expert gate/up", 256, 2048, 768},
                {"Qwen3-30B-A3B expert gate/up", 1024, 2048, 768},
                {"Qwen3-30B-A3B expert gate/up", 2048, 2048, 768},
                {"Qwen3-30B-A3B expert down", 256, 768, 2048},
                {"Qwen3-30B-A3B expert down", 2048, 768, 2048},
        };
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Object[] s : shapes) {
            int m = (int) s[1], in = (int) s[2], n = (int) s[3];
            Random rnd = new Random(m * 31L + in);
            float[] x = new float[m * in], w = new float[n * in], y = new float[m * n];
            short[] wb = new short[n * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) rnd.nextGaussian() * 0.02f;
                wb[i] = (short) (Float.floatToIntBits(w[i]) >>> 16);
            }
            double flops = 2.0 * m * in * n;
            float[] wp = PanelMatmul.pack(w, 0, n, in);
            short[] wbp = PanelMatmul.packBf16(wb, 0, n, in);
            PanelBlocking blocking = PanelBlocking.blockingFor(2L * wbp.length);
            double[][] g = interleaved(samples, 0.15,
                    () -> MatmulKernels.matmulTransposed(x, 0, m, in, w, 0, n, null, y, 0, false, pool),
                    () -> MatmulKernels.matmulTransposed(x, 0, m, in, wb, 0, n, null, y, 0, false, pool),
                    () -> PanelMatmul.matmul(x, 0, m, in, wp, n, null, y, 0, false, pool),
                    () -> PanelMatmul.matmul(x, 0, m, in, wbp, 0, n, null, y, 0, false, pool, blocking));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("shape", s[0]);
            row.put("tokens", m);
            row.put("in", in);
            row.put("out", n);
            for (int v = 0; v < 4; v++) {
                String key = new String[]{"f32", "bf16", "f32_panels", "bf16_panels"}[v];
                double med = flops / median(g[v]) / 1e9, best = flops / min(g[v]) / 1e9;
                row.put(key + "_gflops_median", round(med));
                row.put(key + "_gflops_best", round(best));
                row.put(key + "_fraction_of_peak_median", round(med / peakAll));
                row.put(key + "_fraction_of_peak_at_once_median", round(med / peakAtOnce));
            }
            rows.add(row);
            System.err.println(row);
        }
        return rows;
    }

    /** Packing a Linear weight in place into panels (what loading a layer costs on top of reading it), GB/s of f32. */
    static Map<String, Object> packing(int samples, ForkJoinPool pool) {
        int rows = 128 * 1536 / 8, cols = 2048; // a sixteenth of a Qwen3-30B-A3B layer's gate/up stack
        float[] a = new float[rows * cols];
        double[][] g = interleaved(samples, 0.0, () -> PanelWeights.packInPlace(a, rows, cols, pool));
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("rows", rows);
        row.put("cols", cols);
        row.put("seconds_median", round(median(g[0])));
        row.put("gbytes_per_s_median", round(4.0 * rows * cols / median(g[0]) / 1e9));
        System.err.println(row);
        return row;
    }

    static List<Map<String, Object>> cholesky(int samples, ForkJoinPool pool, int threads) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int n : new int[]{768, 2048}) {
            double[] a = spd(n);
            int block = 64; // EJML's block size; its default (60) is also near its optimum here
            double[][] g = interleaved(samples, 0.0, () -> {
                double[] r = a.clone();
                if (CholeskyKernels.choleskyUpper(r, n, pool) >= 0) throw new IllegalStateException("not SPD");
                CholeskyKernels.invertUpper(r, n, pool);
            }, () -> {
                DMatrixRBlock m = MatrixOps_DDRB.convert(new DMatrixRMaj(n, n, true, a), block);
                CholeskyOuterForm_MT_DDRB chol = new CholeskyOuterForm_MT_DDRB(false);
                if (!chol.decompose(m)) throw new IllegalStateException("not SPD");
                DMatrixRBlock t = chol.getT(null), inv = new DMatrixRBlock(n, n, block);
                TriangularSolver_MT_DDRB.invert(block, true, new DSubmatrixD1(t), new DSubmatrixD1(inv), new GrowArray<>(DGrowArray::new));
            });
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("n", n);
            row.put("threads", threads);
            row.put("ours_seconds_median", round(median(g[0])));
            row.put("ejml_seconds_median", round(median(g[1])));
            row.put("ours_gflops_median", round(2.0 / 3 * n * (double) n * n / median(g[0]) / 1e9));
            row.put("ejml_speed_ratio", round(median(g[1]) / median(g[0])));
            rows.add(row);
            System.err.println(row);
        }
        return rows;
    }

    static List<Map<String, Object>> gram(int samples, ForkJoinPool pool) {
        List<Map<String, Object>> rows = new ArrayList<>();
        int n = 2048;
        for (int tokens : new int[]{512, 2048, 8192}) {
            Random rnd = new Random(tokens);
            float[] x = new float[tokens * n];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            double[] h = new double[n * n];
            double[][] g = interleaved(samples, 0.0, () -> {
                Arrays.fill(h, 0);
                GramKernels.accumulate(h, n, x, 0, tokens, null, false, pool);
            });
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("cols", n);
            row.put("tokens", tokens);
            row.put("seconds_median", round(median(g[0])));
            row.put("gflops_median", round((double) n * (n + 1) * tokens / median(g[0]) / 1e9));
            rows.add(row);
            System.err.println(row);
        }
        return rows;
    }

    /** Seconds per call of each variant: one warm-up, then {@code samples} rounds of all variants in turn. */
    static double[][] interleaved(int samples, double minSeconds, Runnable... variants) {
        double[][] t = new double[variants.length][samples];
        for (Runnable v : variants) v.run();
        for (int s = 0; s < samples; s++) {
            for (int v = 0; v < variants.length; v++) {
                long t0 = System.nanoTime();
                int calls = 0;
                do {
                    variants[v].run();
                    calls++;
                } while (System.nanoTime() - t0 < minSeconds * 1e9);
                t[v][s] = (System.nanoTime() - t0) / 1e9 / calls;
            }
        }
        return t;
    }

    static double[] spd(int n) {
        Random r = new Random(n);
        int tokens = 2 * n;
        float[] x = new float[tokens * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        double[] h = GramKernels.accumulate(null, n, x, 0, tokens, null, false);
        for (int i = 0; i < n; i++) {
            h[i * n + i] += 0.01 * tokens;
            for (int j = 0; j < i; j++) h[i * n + j] = h[j * n + i];
        }
        return h;
    }

    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu_model", cpuModel());
        m.put("physical_cores", CpuThreads.physicalCores());
        m.put("logical_cpus", Runtime.getRuntime().availableProcessors());
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        m.put("vector_bits", FmaPeak.vectorBits());
        return m;
    }

    static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
