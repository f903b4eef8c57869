package org.routecal.compute.cuda.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.compute.cuda.CudaAvailability;
import org.routecal.compute.cuda.CudaContext;
import org.routecal.compute.cuda.CudaKernels;
import org.routecal.compute.cuda.CudaStream;
import org.routecal.compute.cuda.DeviceBuffer;
import org.routecal.compute.cuda.ScaleMode;
import org.routecal.compute.cuda.WeightStreamer;

/**
 * routecal's side of the GPU benchmark (issue 8 item 6; HF's side is tests/gpu/hf_bench.py, same geometry):
 * <ol>
 *   <li>bf16 GEMM throughput of our mma kernel at 8192³ (compare with torch's matmul peak from hf_bench.py);</li>
 *   <li>routing pass tokens/s at Qwen3-30B-A3B layer geometry, weights resident on the GPU and streamed from host
 *       memory through {@link WeightStreamer};</li>
 *   <li>GPTQ seconds per layer for all 128 experts' gate/up/down (Hessians from the routed tokens, batched inverse
 *       factors, batched column sweep), int4 symmetric group 128.</li>
 * </ol>
 * <pre>java -cp routecal.jar org.routecal.compute.cuda.bench.CudaBench --layers 4 --seq 2048 --batch 1 --out bench/gpu/routecal_bench.json</pre>
 */
public final class CudaBench {
    private CudaBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>(Map.of("--layers", "4", "--seq", "2048", "--batch", "1", "--reps", "3",
                "--out", "bench/gpu/routecal_bench.json", "--stream", "true", "--gptq", "true"));
        for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i], args[i + 1]);
        CudaAvailability.Probe p = CudaAvailability.probe();
        if (!p.available()) {
            System.out.println("benchmark skipped: " + p.reason());
            System.exit(3);
        }
        MoeGeometry g = MoeGeometry.qwen3_30b_a3b(Integer.parseInt(a.get("--layers")));
        int seq = Integer.parseInt(a.get("--seq")), batch = Integer.parseInt(a.get("--batch")), reps = Integer.parseInt(a.get("--reps"));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("format", "routecal-cuda-bench");
        out.put("format_version", 1);
        out.put("device", p.describe());
        out.put("geometry", g);
        out.put("batch", batch);
        out.put("seq", seq);
        try (CudaContext ctx = CudaContext.open(); CudaStream s = new CudaStream(ctx, "compute")) {
            CudaKernels k = new CudaKernels(ctx);
            out.put("gemm_bf16_8192_tflops", gemmPeak(ctx, k, s) / 1e12);
            System.out.printf("gemm_bf16 8192^3: %.0f TFLOP/s%n", (double) out.get("gemm_bf16_8192_tflops"));
            try (RoutingPass rp = new RoutingPass(ctx, k, s, g, batch, seq)) {
                out.put("routing_pass_resident", routingResident(ctx, k, s, rp, reps));
                if (Boolean.parseBoolean(a.get("--stream"))) out.put("routing_pass_streamed", routingStreamed(ctx, s, rp, reps));
                if (Boolean.parseBoolean(a.get("--gptq"))) out.put("gptq_layer", gptqLayer(ctx, k, s, rp));
            }
        }
        out.put("routing_pass_flops", g.routingPassFlops(batch, seq));
        Path file = Path.of(a.get("--out"));
        org.routecal.io.AtomicFiles.writeJson(file, out);
        System.out.println("wrote " + file);
    }

    private static double gemmPeak(CudaContext ctx, CudaKernels k, CudaStream s) {
        int n = 8192;
        try (DeviceBuffer a = DeviceBuffer.allocate(ctx, 2L * n * n, "A"); DeviceBuffer b = DeviceBuffer.allocate(ctx, 2L * n * n, "B");
             DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * n * n, "C")) {
            k.fillUniform(a, (long) n * n, true, 1, 1f, s);
            k.fillUniform(b, (long) n * n, true, 2, 1f, s);
            double best = timeMs(s, 5, () -> k.gemmBf16(a, n, b, c, n, n, n, n, false, false, s));
            return 2.0 * n * n * n / (best / 1e3);
        }
    }

    /** Best of {@code reps} timed runs (after one warm-up), in milliseconds, measured with events on {@code s}. */
    static double timeMs(CudaStream s, int reps, Runnable work) {
        work.run();
        s.synchronize();
        double best = Double.MAX_VALUE;
        for (int r = 0; r < reps; r++) {
            try (CudaStream.Event t0 = s.record(true)) {
                work.run();
                try (CudaStream.Event t1 = s.record(true)) {
                    t1.synchronize();
                    best = Math.min(best, t1.millisSince(t0));
                }
            }
        }
        return best;
    }

    private static Map<String, Object> result(RoutingPass rp, double ms, String how) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("milliseconds", ms);
        r.put("tokens_per_s", rp.tokens / (ms / 1e3));
        r.put("weights", how);
        System.out.printf("routing pass (%s): %.1f ms, %.0f tok/s%n", how, ms, rp.tokens / (ms / 1e3));
        return r;
    }

    private static Map<String, Object> routingResident(CudaContext ctx, CudaKernels k, CudaStream s, RoutingPass rp, int reps) {
        List<Map<String, DeviceBuffer>> layers = new ArrayList<>();
        List<DeviceBuffer> all = new ArrayList<>();
        try {
            for (int l = 0; l < rp.g.layers(); l++) {
                Map<String, DeviceBuffer> w = new HashMap<>();
                for (LayerWeights.Spec spec : LayerWeights.specs(rp.g)) {
                    DeviceBuffer b = DeviceBuffer.allocate(ctx, spec.bytes(), spec.name());
                    all.add(b);
                    if (spec.bf16()) k.fillUniform(b, spec.elements(), true, 1000L * l + spec.name().hashCode(), 0.02f, s);
                    else b.upload(ones((int) spec.elements()));
                    w.put(spec.name(), b);
                }
                layers.add(w);
            }
            double ms = timeMs(s, reps, () -> {
                rp.randomInput(7);
                for (int l = 0; l < rp.g.layers(); l++) rp.layer(l, layers.get(l));
                rp.downloadIds(s);
            });
            return result(rp, ms, "resident");
        } finally {
            for (DeviceBuffer b : all) b.close();
        }
    }

    private static float[] ones(int n) {
        float[] o = new float[n];
        java.util.Arrays.fill(o, 1f);
        return o;
    }

    private static Map<String, Object> routingStreamed(CudaContext ctx, CudaStream s, RoutingPass rp, int reps) {
        WeightStreamer.LayerSource src = LayerWeights.hostSource(rp.g, 11);
        double best = Double.MAX_VALUE;
        long bytes = 0;
        try (WeightStreamer ws = new WeightStreamer(ctx, src, rp.g.layers(), s, 64L << 20)) {
            for (int r = 0; r <= reps; r++) {  // first round is the warm-up
                long t0 = System.nanoTime();
                rp.randomInput(7);
                for (int l = 0; l < rp.g.layers(); l++) {
                    WeightStreamer.LayerOnDevice w = ws.acquire(l);
                    rp.layer(l, w.tensors());
                    ws.release(w);
                }
                rp.downloadIds(s);
                if (r > 0) best = Math.min(best, (System.nanoTime() - t0) / 1e6);
            }
            bytes = ws.bytesCopied();
        }
        Map<String, Object> r = result(rp, best, "streamed from host (pinned double buffer)");
        r.put("bytes_copied_total", bytes);
        return r;
    }

    private static Map<String, Object> gptqLayer(CudaContext ctx, CudaKernels k, CudaStream s, RoutingPass rp) {
        MoeGeometry g = rp.g;
        int e = g.experts(), h = g.hidden(), i = g.inter(), slots = rp.slots;
        // Uses the block inputs (xn, act) and routing (offsets, sortedToken) that the routing pass's last layer left.
        Map<String, Object> r = new LinkedHashMap<>();
        try (DeviceBuffer hGu = DeviceBuffer.allocate(ctx, 4L * e * h * h, "H gate_up"); DeviceBuffer work = DeviceBuffer.allocate(ctx, 4L * e * h * h, "work");
             DeviceBuffer uGu = DeviceBuffer.allocate(ctx, 4L * e * h * h, "U gate_up"); DeviceBuffer hD = DeviceBuffer.allocate(ctx, 4L * e * i * i, "H down");
             DeviceBuffer uD = DeviceBuffer.allocate(ctx, 4L * e * i * i, "U down"); DeviceBuffer st = DeviceBuffer.allocate(ctx, 4L * e, "status");
             DeviceBuffer wGu = DeviceBuffer.allocate(ctx, 4L * e * 2 * i * h, "gate_up fp32"); DeviceBuffer wD = DeviceBuffer.allocate(ctx, 4L * e * h * i, "down fp32");
             DeviceBuffer scGu = DeviceBuffer.allocate(ctx, 4L * e * 2 * i * (h / 128), "scales gate_up");
             DeviceBuffer scD = DeviceBuffer.allocate(ctx, 4L * e * h * (i / 128), "scales down")) {
            k.fillUniform(wGu, (long) e * 2 * i * h, false, 21, 0.02f, s);
            k.fillUniform(wD, (long) e * h * i, false, 22, 0.02f, s);
            double ms = timeMs(s, 1, () -> {
                hGu.zero(s);
                hD.zero(s);
                k.hessianAccumulate(rp.xn, h, true, rp.sortedToken, null, rp.offsets, e, h, hGu, 2f, s);
                k.hessianAccumulate(rp.act, i, true, null, null, rp.offsets, e, i, hD, 2f, s);
                k.hinvUpper(hGu, work, uGu, e, h, 0.01f, st, s);
                k.hinvUpper(hD, work, uD, e, i, 0.01f, st, s);
                k.groupScales(wGu, e * 2 * i, h, 128, ScaleMode.INT_SYMMETRIC, -8, 7, 0.0078125f, true, scGu, null, s);
                k.groupScales(wD, e * h, i, 128, ScaleMode.INT_SYMMETRIC, -8, 7, 0.0078125f, true, scD, null, s);
                k.gptqSweep(wGu, e * 2 * i, h, uGu, 2 * i, scGu, null, null, 128, -8, 7, null, 1, 128, s);
                k.gptqSweep(wD, e * h, i, uD, h, scD, null, null, 128, -8, 7, null, 1, 128, s);
            });
            r.put("seconds_per_layer", ms / 1e3);
            r.put("modules", 3 * e);
            r.put("scheme", "int4 sym g128, damp 0.01, per-expert Hessians from routed tokens (gate/up share one)");
            r.put("routed_rows", slots);
            System.out.printf("GPTQ layer (128 experts x gate/up/down): %.2f s%n", ms / 1e3);
        }
        return r;
    }
}
