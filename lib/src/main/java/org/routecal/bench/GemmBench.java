package org.routecal.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.compute.cuda.CudaContext;
import org.routecal.compute.cuda.CudaKernels;
import org.routecal.compute.cuda.CudaStream;
import org.routecal.compute.cuda.DeviceBuffer;
import org.routecal.io.AtomicFiles;

/**
 * Our bf16 tensor-core GEMMs (gemm_bf16.cu, every variant in one run) at 8192³, at the attention projections of
 * Qwen3-30B-A3B, and as the grouped expert GEMM at its expert shapes (tokens per expert 16 to 4096, gate_up 2048→1536
 * and down 768→2048): TFLOP/s from CUDA events, median of 5 timings of 10 launches after warm-up. The JSON lists the
 * shapes so tests/gpu/torch_gemm_bench.py times torch's matmul and grouped_mm on the same ones (the anchor). Every
 * variant's output is compared with the first variant's, bit for bit ({@code vN_outputs_differing_from_vM}, must be 0).
 *
 * <pre>java -cp routecal.jar org.routecal.bench.GemmBench --out gemm.json [--variants 1,2]</pre>
 */
public final class GemmBench {
    private GemmBench() {}

    record Shape(String kind, int experts, int rowsPerExpert, int n, int k) {
        long rows() { return (long) experts * rowsPerExpert; }

        double flops() { return 2.0 * rows() * n * k; }
    }

    static List<Shape> shapes() {
        List<Shape> s = new ArrayList<>();
        s.add(new Shape("dense", 1, 8192, 8192, 8192));
        s.add(new Shape("dense", 1, 2048, 5120, 2048));   // q, k, v of Qwen3-30B-A3B at 2048 tokens
        s.add(new Shape("dense", 1, 2048, 2048, 4096));   // o_proj
        s.add(new Shape("dense", 1, 16384, 5120, 2048));  // q, k, v at 8 × 2048 tokens
        for (int tpe : new int[]{16, 128, 1024, 4096}) {
            int experts = Math.min(128, 65536 / tpe);
            s.add(new Shape("grouped", experts, tpe, 1536, 2048));  // gate_up
            s.add(new Shape("grouped", experts, tpe, 2048, 768));   // down
        }
        return s;
    }

    public static void main(String[] args) throws Exception {
        Path out = null;
        int[] variants = {1, 2};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--variants" -> variants = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        List<Map<String, Object>> rows = new ArrayList<>();
        try (CudaContext ctx = CudaContext.open(); CudaStream stream = new CudaStream(ctx, "gemm bench")) {
            CudaKernels k = new CudaKernels(ctx);
            report.put("device", ctx.device().toString());
            for (Shape s : shapes()) {
                long rows0 = s.rows();
                try (DeviceBuffer a = DeviceBuffer.allocate(ctx, 2L * rows0 * s.k(), "A");
                     DeviceBuffer w = DeviceBuffer.allocate(ctx, 2L * s.experts() * s.n() * s.k(), "W");
                     DeviceBuffer c = DeviceBuffer.allocate(ctx, 4L * rows0 * s.n(), "C");
                     DeviceBuffer offsets = DeviceBuffer.of(ctx, offsets(s), "offsets")) {
                    k.fillUniform(a, rows0 * s.k(), true, 1, 1f, stream);
                    k.fillUniform(w, (long) s.experts() * s.n() * s.k(), true, 2, 0.05f, stream);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("kind", s.kind());
                    row.put("experts", s.experts());
                    row.put("rows_per_expert", s.rowsPerExpert());
                    row.put("n", s.n());
                    row.put("k", s.k());
                    row.put("flops", s.flops());
                    float[] first = null;
                    for (int v : variants) {
                        k.useGemmVariant(v);
                        Runnable launch = s.kind().equals("dense")
                                ? () -> k.gemmBf16(a, s.k(), w, c, s.n(), (int) rows0, s.n(), s.k(), false, false, stream)
                                : () -> k.groupedGemmBf16(a, s.k(), null, offsets, s.experts(), (int) rows0, w, c, s.n(), s.n(), s.k(), false, false, stream);
                        double ms = medianMillis(stream, launch);
                        row.put("v" + v + "_ms", ms);
                        row.put("v" + v + "_tflops", s.flops() / (ms * 1e-3) / 1e12);
                        // every variant sums each output in the same k order: their results must be equal bit for bit
                        stream.synchronize();
                        float[] result = c.downloadFloats(Math.toIntExact(rows0 * s.n()));
                        if (first == null) {
                            first = result;
                        } else {
                            long differ = 0;
                            for (int i = 0; i < result.length; i++) if (Float.floatToRawIntBits(result[i]) != Float.floatToRawIntBits(first[i])) differ++;
                            row.put("v" + v + "_outputs_differing_from_v" + variants[0], differ);
                        }
                    }
                    rows.add(row);
                    System.out.println(row);
                }
            }
        }
        report.put("gemms", rows);
        if (out != null) AtomicFiles.writeJson(out, report);
    }

    static int[] offsets(Shape s) {
        int[] o = new int[s.experts() + 1];
        for (int e = 0; e < s.experts(); e++) o[e + 1] = o[e] + s.rowsPerExpert();
        return o;
    }

    /** Median over 5 timings of 10 launches each (ms per launch), after 3 untimed launches. */
    static double medianMillis(CudaStream stream, Runnable launch) {
        for (int i = 0; i < 3; i++) launch.run();
        double[] t = new double[5];
        for (int r = 0; r < t.length; r++) {
            try (CudaStream.Event start = stream.record(true)) {
                for (int i = 0; i < 10; i++) launch.run();
                try (CudaStream.Event stop = stream.record(true)) {
                    stop.synchronize();
                    t[r] = stop.millisSince(start) / 10;
                }
            }
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }
}
