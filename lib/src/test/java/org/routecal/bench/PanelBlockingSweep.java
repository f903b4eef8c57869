package org.routecal.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.routecal.compute.cpu.CpuThreads;
import org.routecal.compute.cpu.FmaPeak;
import org.routecal.compute.cpu.PanelBlocking;
import org.routecal.compute.cpu.PanelMatmul;

/**
 * Sweeps {@link PanelBlocking} (k-slice, row block, panel chunk, rows-first or panels-first cutting) over the
 * products the forward runs: attention (q/o alone, and q, k and v as one product) and lm_head projections of the
 * side-by-side checkpoint, Qwen3-30B-A3B attention q/k/v and expert
 * products one expert at a time, and grouped expert products of a whole layer (128 experts, 2048 tokens × top-8).
 * Writes GFLOP/s per shape and blocking, each as a fraction of the all-threads FMA peak, and the best blocking per
 * shape, as JSON. Variants of a shape are timed in turn (interleaved), so drift hits them alike. For the GPU machine's
 * 16 cores, where the default was chosen on 2 (run_gpu.sh cpu16). Usage: {@code java --add-modules
 * jdk.incubator.vector -cp … org.routecal.bench.PanelBlockingSweep [--out FILE] [--samples N] [--quick] [--scaling]
 * [--grid "kc,rowKB,chunkKB,tasks,split;…"] [--ab fused|spin|shares|linears|order] [--bf16] [--threads 1,16]
 * [--grouped-sizes]} ({@code --grouped-sizes}: the skewed Qwen3-30B-A3B grouped gate/up and the same with every expert
 * given 16, 32, 64, 128 or 256 rows, nothing else; {@code --grid}: those blockings only,
 * the first as the baseline; {@code --ab}: each blocking twice, interleaved in this JVM, with a switch off and then on:
 * {@code fused}, x packed by the tasks ({@link PanelMatmul#fusedPacking}) rather than in a pass of its own;
 * {@code spin}, helpers spinning 500 µs for the next call ({@link CpuThreads#spinMicros}) rather than none;
 * {@code shares}, each thread first running a contiguous share of the tasks ({@link PanelMatmul#taskShares});
 * {@code linears}, q, k and v as one product over x ({@link PanelMatmul#products}) rather than three;
 * {@code order}, a grouped product's row blocks largest and smallest in turn rather than in expert order;
 * {@code --bf16}: bf16 weight panels; {@code --threads}: the scaling curve at those thread counts only);
 * {@code --scaling} writes {@link ThreadScaling}'s curve instead. Each shape also gets its roofline: the speed at
 * which its bytes from memory (W once, x and y once) take as long as the measured triad bandwidth allows.
 */
public final class PanelBlockingSweep {
    private PanelBlockingSweep() {}

    public static void main(String[] args) throws IOException {
        Path out = Path.of("bench/results/panel-blocking.json");
        int samples = 3;
        boolean quick = false, scaling = false, groupedSizes = false;
        String ab = null;
        boolean bf16 = false;
        String gridSpec = null, threadCounts = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--samples" -> samples = Integer.parseInt(args[++i]);
                case "--quick" -> quick = true; // a small grid and small shapes: a check that it runs
                case "--scaling" -> scaling = true;
                case "--grid" -> gridSpec = args[++i]; // blockings separated by ';', the first is the baseline
                case "--threads" -> threadCounts = args[++i]; // --scaling at these counts only, e.g. 16 or 1,16
                case "--ab" -> ab = args[++i];
                case "--bf16" -> bf16 = true; // bf16 panels (a bf16 checkpoint's), not float32
                case "--grouped-sizes" -> groupedSizes = true; // grouped products only, skewed and with even expert sizes
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (valid: --out, --samples, --quick, --scaling, --grid, --ab, --bf16, --threads, --grouped-sizes)");
            }
        }
        if (scaling) {
            writeJson(out, ThreadScaling.run(samples, quick, threadCounts));
            return;
        }
        int threads = CpuThreads.defaultThreads();
        ForkJoinPool pool = CpuThreads.sharedPool();
        List<PanelBlocking> grid = new ArrayList<>();
        PanelBlocking first = new PanelBlocking(256, 256 << 10, 256 << 10, 4, false); // the first default
        grid.add(first);
        if (gridSpec != null) {
            grid.clear();
            for (String b : gridSpec.split(";")) grid.add(PanelBlocking.parse(b));
        } else for (int kc : quick ? new int[]{256, 512} : new int[]{128, 256, 512})
            for (int rowKb : quick ? new int[]{64, 1024} : new int[]{64, 256, 1024})
                for (int chunkKb : quick ? new int[]{128, 256} : new int[]{128, 256, 512, 1024})
                    for (boolean rowsFirst : new boolean[]{false, true}) {
                        var b = new PanelBlocking(kc, rowKb << 10, chunkKb << 10, 4, rowsFirst);
                        if (!b.equals(first)) grid.add(b);
                    }
        if (ab != null && !List.of("fused", "spin", "shares", "linears", "order").contains(ab)) throw new IllegalArgumentException("--ab takes fused, spin, shares, linears or order, not " + ab);
        List<Boolean> fused = new ArrayList<>(); // per variant: the --ab switch (null: the JVM's setting)
        if (ab != null) {
            List<PanelBlocking> twice = new ArrayList<>();
            for (PanelBlocking b : grid) {
                twice.add(b);
                twice.add(b);
                fused.add(false);
                fused.add(true);
            }
            grid = twice;
        } else for (int i = 0; i < grid.size(); i++) fused.add(null);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("format", "routecal.bench.panel_blocking");
        if (ab != null) r.put("ab", ab);
        r.put("format_version", 1);
        r.put("machine", CpuKernelBench.machine());
        r.put("threads", threads);
        r.put("tile_rows", PanelMatmul.TILE_ROWS);
        double peak = FmaPeak.allThreadsGflops(threads, 3);
        r.put("fma_peak_gflops_all_threads_at_once", CpuKernelBench.round(peak));
        r.put("fma_peak_gflops_one_thread_times_threads", CpuKernelBench.round(FmaPeak.singleThreadGflops(3) * threads));
        r.put("fork_join_microseconds", forkJoinCost(pool, threads));
        double bandwidth = memoryGbps(pool, threads);
        r.put("memory_gbps_triad_all_threads", CpuKernelBench.round(bandwidth));
        r.put("panels", bf16 ? "bf16" : "f32");
        List<Map<String, Object>> shapes = new ArrayList<>();
        int s = quick ? 4 : 1;
        // name, rows (tokens), in, out, experts (0: one plain product), and for products of several weights over one x
        // (q, k and v: PanelMatmul.products) their widths
        Object[][] all = {
                {"side-by-side attention q/o", 512 / s, 1024, 1024, 0},
                {"side-by-side attention q/k/v", 512 / s, 1024, 1536, 0, new int[]{1024, 256, 256}},
                {"side-by-side lm_head", 512 / s, 1024, 32000 / s, 0},
                {"side-by-side grouped gate/up (32 experts, 512 tokens x top-4)", 2048 / s, 1024, 1024, 32},
                {"Qwen3-30B-A3B expert gate/up", 256, 2048, 768, 0},
                {"Qwen3-30B-A3B expert gate/up", 2048 / s, 2048, 768, 0},
                {"Qwen3-30B-A3B expert down", 2048 / s, 768, 2048, 0},
                {"Qwen3-30B-A3B attention q/k/v", 2048 / s, 2048, 5120, 0, new int[]{4096, 512, 512}},
                {"Qwen3-30B-A3B grouped gate/up (128 experts, 2048 tokens x top-8)", 16384 / s, 2048, 1536, 128},
                {"Qwen3-30B-A3B grouped down", 16384 / s, 768, 2048, 128},
        };
        if (groupedSizes) { // where a grouped product loses: the skewed routing against every expert with the same rows
            List<Object[]> g = new ArrayList<>();
            g.add(all[all.length - 2]);
            for (int perExpert : new int[]{16, 32, 64, 128, 256}) {
                g.add(new Object[]{"Qwen3-30B-A3B grouped gate/up, " + perExpert + " rows per expert", 128 * perExpert / s, 2048, 1536, 128, null, true});
            }
            all = g.toArray(new Object[0][]);
        }
        for (Object[] shape : all) {
            Map<String, Object> row = sweep((String) shape[0], (int) shape[1], (int) shape[2], (int) shape[3], (int) shape[4],
                    shape.length > 5 ? (int[]) shape[5] : null, shape.length > 6 && (boolean) shape[6], grid, ab, fused, samples, pool, peak, bandwidth, bf16);
            shapes.add(row);
            System.err.println(shape[0] + " " + shape[1] + "x" + shape[2] + "->" + shape[3] + ": default " + row.get("default_gflops")
                    + ", best " + row.get("best_gflops") + " " + row.get("best_blocking")
                    + (row.containsKey("best_ab_on") ? " " + ab + " " + row.get("best_ab_on") : ""));
            StringBuilder line = new StringBuilder("  roofline " + row.get("roofline_gflops") + " (" + row.get("flops_per_byte_from_memory") + " flop/byte); each:");
            @SuppressWarnings("unchecked") List<Map<String, Object>> each = (List<Map<String, Object>>) row.get("each");
            for (Map<String, Object> e : each) {
                line.append(String.format(" %.0f (%.0f %%)%s", (double) e.get("gflops_median"), 100 * (double) e.get("fraction_of_peak"),
                        Boolean.TRUE.equals(e.get("ab_on")) ? " |" : ""));
            }
            System.err.println(line);
        }
        r.put("shapes", shapes);
        // one blocking for every product: the best geometric mean over the shapes
        double[] logSum = new double[grid.size()];
        for (Map<String, Object> row : shapes) {
            @SuppressWarnings("unchecked") List<Map<String, Object>> each = (List<Map<String, Object>>) row.get("each");
            for (int v = 0; v < grid.size(); v++) logSum[v] += Math.log((double) each.get(v).get("gflops_median"));
        }
        int best = 0;
        for (int v = 1; v < grid.size(); v++) if (logSum[v] > logSum[best]) best = v;
        r.put("best_overall_blocking", describe(grid.get(best)));
        if (fused.get(best) != null) r.put("best_overall_ab_on", fused.get(best));
        r.put("best_overall_vs_default_geomean", CpuKernelBench.round(Math.exp((logSum[best] - logSum[0]) / shapes.size())));
        System.err.println("best overall " + r.get("best_overall_blocking") + ": " + r.get("best_overall_vs_default_geomean") + "x the default");
        writeJson(out, r);
    }

    /**
     * What one {@link CpuThreads#forEach} over the pool costs beyond its tasks, in µs (median of 400 calls): with one
     * empty task per thread, with tasks of about 20 µs each, and the same 20 µs tasks on the calling thread alone
     * (their own time). A small product's share of it is what fusing or dropping a pass saves.
     */
    static Map<String, Object> forkJoinCost(ForkJoinPool pool, int threads) {
        double[] sink = new double[threads];
        java.util.function.IntConsumer busy = t -> {
            double a = t;
            for (int i = 0; i < 20_000; i++) a = a * 0.999999 + 1e-9; // ~20 µs of dependent flops
            sink[t] += a;
        };
        Map<String, Object> r = new LinkedHashMap<>();
        for (int pass = 0; pass < 2; pass++) { // the first pass warms up the JIT
            r.put("empty_tasks", medianMicros(() -> CpuThreads.forEach(pool, threads, t -> sink[t] += 1)));
            r.put("tasks_of_20us", medianMicros(() -> CpuThreads.forEach(pool, threads, busy)));
            r.put("one_20us_task_serial", medianMicros(() -> busy.accept(0)));
        }
        System.err.println("forEach over " + threads + " threads, µs: " + r);
        return r;
    }

    private static double medianMicros(Runnable run) {
        double[] t = new double[400];
        for (int i = 0; i < t.length; i++) {
            long t0 = System.nanoTime();
            run.run();
            t[i] = (System.nanoTime() - t0) / 1e3;
        }
        return CpuKernelBench.round(CpuKernelBench.median(t));
    }

    /** W packed as float32 panels, or as bf16 panels of W's bits truncated (timing only). */
    private static Object panels(float[] w, int out, int in, boolean bf16) {
        return bf16 ? PanelMatmul.packBf16(ThreadScaling.bf16Bits(w), 0, out, in) : PanelMatmul.pack(w, 0, out, in);
    }

    /**
     * Memory bandwidth with all threads at once, GB/s: the best of 5 passes of a = b + s·c over three 256 MB arrays
     * (12 bytes per element counted, write-allocate not), the roofline a product whose weights stream from memory
     * can reach: on a shared host it moves with the neighbours, as the FMA peak does, so it is measured in the same run.
     */
    static double memoryGbps(ForkJoinPool pool, int threads) {
        int n = 64 << 20, chunk = 1 << 16;
        float[] a = new float[n], b = new float[n], c = new float[n];
        CpuThreads.forEach(pool, n / chunk, k -> java.util.Arrays.fill(b, k * chunk, (k + 1) * chunk, 1f)); // touched by all threads
        CpuThreads.forEach(pool, n / chunk, k -> java.util.Arrays.fill(c, k * chunk, (k + 1) * chunk, 2f));
        var sp = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        double best = 0;
        for (int pass = 0; pass < 5; pass++) {
            long t0 = System.nanoTime();
            CpuThreads.forEach(pool, n / chunk, k -> {
                for (int i = k * chunk; i < (k + 1) * chunk; i += sp.length()) {
                    jdk.incubator.vector.FloatVector.fromArray(sp, c, i).mul(0.5f).add(jdk.incubator.vector.FloatVector.fromArray(sp, b, i)).intoArray(a, i);
                }
            });
            best = Math.max(best, 12.0 * n / (System.nanoTime() - t0));
        }
        System.err.printf("memory bandwidth (triad, %d threads): %.1f GB/s%n", threads, best);
        return best;
    }

    static void writeJson(Path out, Object value) throws IOException {
        if (out.getParent() != null) Files.createDirectories(out.getParent());
        org.routecal.io.AtomicFiles.writeJson(out, value);
    }

    /** Several weights over one x as one {@link PanelMatmul#products} (the forward's way), or one product each. */
    private static volatile boolean oneProduct = true;

    /** Sets the --ab switch ({@code on} null: leaves the JVM's setting). */
    private static void applyAb(String ab, Boolean on) {
        if (on == null) return;
        switch (ab) {
            case "fused" -> PanelMatmul.fusedPacking(on);
            case "spin" -> CpuThreads.spinMicros(on ? 500 : 0);
            case "shares" -> PanelMatmul.taskShares(on);
            case "linears" -> oneProduct = on;
            case "order" -> PanelMatmul.mixedGroupedOrder(on);
            default -> throw new IllegalArgumentException("--ab " + ab);
        }
    }

    static Map<String, Object> sweep(String name, int rows, int in, int out, int experts, int[] widths, boolean evenExperts, List<PanelBlocking> grid,
                                     String ab, List<Boolean> fused, int samples, ForkJoinPool pool, double peak, double bandwidth,
                                     boolean bf16) {
        Random rnd = new Random(rows * 31L + in * 7L + out + experts);
        float[] x = experts == 0 ? gaussian(rnd, rows * in) : null;
        float[] y = new float[rows * out];
        Runnable[] variants = new Runnable[grid.size()];
        if (widths != null) { // several weights over one x, y's rows holding their outputs side by side
            int n = widths.length;
            Object[] wps = new Object[n];
            int[] yOff = new int[n];
            for (int i = 0; i < n; i++) {
                wps[i] = panels(gaussian(rnd, widths[i] * in), widths[i], in, bf16);
                if (i > 0) yOff[i] = yOff[i - 1] + rows * widths[i - 1];
            }
            for (int v = 0; v < variants.length; v++) {
                PanelBlocking b = grid.get(v);
                Boolean f = fused.get(v);
                variants[v] = () -> {
                    applyAb(ab, f);
                    PanelMatmul.Output[] outputs = new PanelMatmul.Output[n];
                    for (int i = 0; i < n; i++) outputs[i] = new PanelMatmul.Output(wps[i], 0, widths[i], null, y, yOff[i]);
                    if (oneProduct) PanelMatmul.products(x, 0, rows, in, outputs, false, pool, b);
                    else for (PanelMatmul.Output o : outputs) PanelMatmul.products(x, 0, rows, in, new PanelMatmul.Output[]{o}, false, pool, b);
                };
            }
        } else if (experts == 0) {
            Object wp = panels(gaussian(rnd, out * in), out, in, bf16);
            for (int v = 0; v < variants.length; v++) {
                PanelBlocking b = grid.get(v);
                Boolean f = fused.get(v);
                variants[v] = () -> {
                    applyAb(ab, f);
                    if (wp instanceof short[] h) PanelMatmul.matmul(x, 0, rows, in, h, 0, out, null, y, 0, false, pool, b);
                    else PanelMatmul.matmul(x, 0, rows, in, (float[]) wp, 0, out, null, y, 0, false, pool, b);
                };
            }
        } else {
            // rows are routed slots: tokens = rows / top-k gathered in expert order, experts' loads uneven as routing is
            int tokens = rows / 8;
            float[] xt = gaussian(rnd, tokens * in);
            int[] counts = new int[experts];
            for (int i = 0; i < rows; i++) counts[evenExperts ? i % experts : (int) Math.min(experts - 1, Math.abs(rnd.nextGaussian()) * experts / 2.5)]++;
            int[] offsets = new int[experts + 1];
            for (int e = 0; e < experts; e++) offsets[e + 1] = offsets[e] + counts[e];
            int[] rowOf = new int[rows];
            for (int i = 0; i < rows; i++) rowOf[i] = rnd.nextInt(tokens);
            Object[] wp = new Object[experts];
            int[] wOff = new int[experts];
            for (int e = 0; e < experts; e++) wp[e] = panels(gaussian(rnd, out * in), out, in, bf16);
            for (int v = 0; v < variants.length; v++) {
                PanelBlocking b = grid.get(v);
                Boolean f = fused.get(v);
                variants[v] = () -> {
                    applyAb(ab, f);
                    PanelMatmul.grouped(xt, 0, in, rowOf, offsets, experts, wp, wOff, out, y, 0, pool, b);
                };
            }
        }
        double flops = 2.0 * rows * in * out;
        double[][] t = CpuKernelBench.interleaved(samples, 0.05, variants);
        // the roofline: W (every expert's) read once from memory, x and y once each; the product can go no faster
        double bytes = (double) Math.max(1, experts) * out * in * (bf16 ? 2 : 4) + 4.0 * rows * (in + out);
        double roofline = Math.min(peak, bandwidth * flops / bytes);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("shape", name);
        row.put("rows", rows);
        row.put("in", in);
        row.put("out", out);
        row.put("experts", experts);
        row.put("flops_per_byte_from_memory", CpuKernelBench.round(flops / bytes));
        row.put("roofline_gflops", CpuKernelBench.round(roofline));
        List<Map<String, Object>> each = new ArrayList<>();
        int best = 0;
        for (int v = 0; v < grid.size(); v++) {
            double g = flops / CpuKernelBench.median(t[v]) / 1e9;
            if (g > flops / CpuKernelBench.median(t[best]) / 1e9) best = v;
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("blocking", describe(grid.get(v)));
            if (fused.get(v) != null) e.put("ab_on", fused.get(v));
            e.put("gflops_median", CpuKernelBench.round(g));
            e.put("fraction_of_peak", CpuKernelBench.round(g / peak));
            e.put("fraction_of_roofline", CpuKernelBench.round(g / roofline));
            each.add(e);
        }
        row.put("default_gflops", each.get(0).get("gflops_median"));
        row.put("default_fraction_of_peak", each.get(0).get("fraction_of_peak"));
        int auto = grid.lastIndexOf(experts > 0 ? PanelBlocking.GROUPED : PanelBlocking.blockingFor(4L * PanelMatmul.packedLength(out, in)));
        if (auto >= 0) {
            row.put("auto_blocking", each.get(auto).get("blocking"));
            row.put("auto_gflops", each.get(auto).get("gflops_median"));
            row.put("auto_fraction_of_peak", each.get(auto).get("fraction_of_peak"));
        }
        row.put("best_blocking", each.get(best).get("blocking"));
        if (fused.get(best) != null) row.put("best_ab_on", fused.get(best));
        row.put("best_gflops", each.get(best).get("gflops_median"));
        row.put("best_fraction_of_peak", each.get(best).get("fraction_of_peak"));
        row.put("each", each);
        return row;
    }

    /** As {@code -Droutecal.panelBlocking} takes it: kc,rowKB,chunkKB,tasksPerThread,split. */
    static String describe(PanelBlocking b) {
        return PanelBlocking.format(b);
    }

    static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
