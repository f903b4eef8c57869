package org.routecal.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.routecal.compute.Backend;
import org.routecal.compute.devices.Devices;
import org.routecal.compute.Tensor;
import org.routecal.compute.cuda.CudaBackend;
import org.routecal.compute.cuda.KernelProfile;
import org.routecal.model.Activations;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;

/**
 * The routing pass of the engine on a checkpoint: every layer with routing capture (top-k ids of every layer stay on
 * the backend and are downloaded once per pass, as the route stage needs them), no lm_head, random token ids; weights
 * resident (loaded before timing) or streamed (a cache smaller than the model). Warm-up, then the median of
 * {@code --repeats} timed passes per batch size; {@code --profile} adds one pass with GPU time per kernel. Writes JSON beside HF's numbers from tests/gpu/hf_bench.py.
 *
 * <pre>java -cp routecal.jar org.routecal.bench.EngineBench --model DIR --device cuda --batches 1,8 --seq 2048 --out x.json</pre>
 */
public final class EngineBench {
    private EngineBench() {}

    public static void main(String[] args) throws Exception {
        Path model = null, out = null;
        String device = "cuda", precision = "auto";
        int seq = 2048, repeats = 5;
        int[] batches = {1, 8};
        boolean streamed = false, profile = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = Path.of(args[++i]);
                case "--device" -> device = args[++i];
                case "--precision" -> precision = args[++i];
                case "--seq" -> seq = Integer.parseInt(args[++i]);
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--batches" -> batches = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--streamed" -> streamed = true;
                case "--profile" -> profile = true;
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        try (Backend b = Devices.open(device, precision, model)) {
            report.put("device", b.device().toManifest());
            report.put("backend", b.name());
            long budget = streamed ? 1L << 30 : MoeModel.defaultBudget(b);
            try (MoeModel m = new MoeModel(model, org.routecal.model.family.ModelConfig.load(model), org.routecal.model.CheckpointSource.open(model), b,
                    budget)) {
                m.checkFinite(false);
                report.put("model", model.toString());
                report.put("layers", m.config().layerCount());
                report.put("weights", streamed ? "streamed (1 GiB cache)" : "resident");
                List<Map<String, Object>> rows = new ArrayList<>();
                SplittableRandom rnd = new SplittableRandom(0);
                for (int batch : batches) {
                    List<int[]> seqs = new ArrayList<>();
                    for (int s = 0; s < batch; s++) seqs.add(rnd.ints(seq, 0, m.config().vocabSize()).toArray());
                    double[] seconds = new double[repeats];
                    long loaded0 = 0;
                    for (int r = -2; r < repeats; r++) { // two warm-up passes (kernel JIT, weight upload, pool)
                        long bytes0 = m.weights().loadedBytes();
                        long t0 = System.nanoTime();
                        routingPass(m, seqs);
                        double s = (System.nanoTime() - t0) / 1e9;
                        if (r >= 0) {
                            seconds[r] = s;
                            loaded0 = m.weights().loadedBytes() - bytes0;
                        }
                    }
                    double[] sorted = seconds.clone();
                    Arrays.sort(sorted);
                    double median = sorted[repeats / 2];
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("batch", batch);
                    row.put("seq", seq);
                    row.put("tokens", batch * seq);
                    row.put("median_seconds", median);
                    row.put("tokens_per_second", batch * seq / median);
                    row.put("all_seconds", seconds);
                    row.put("weight_bytes_uploaded_per_pass", loaded0);
                    if (profile) row.put("profile", profiledPass(m, seqs));
                    rows.add(row);
                    System.out.printf("routecal %s, %d x %d tokens: %.1f tokens/s (median of %d)%n", b.name(), batch, seq, batch * seq / median, repeats);
                }
                report.put("routing_pass", rows);
                report.put("device_memory_free_after_bytes", b.memoryAvailable());
            }
        }
        if (out != null) org.routecal.io.AtomicFiles.writeJson(out, report);
    }

    /**
     * One more routing pass with every kernel launch timed by CUDA events ({@link KernelProfile}): GPU milliseconds per
     * kernel and what the kernels leave of the wall time (host work, copies, waits). Null on a backend without kernels.
     */
    static Map<String, Object> profiledPass(MoeModel m, List<int[]> seqs) {
        if (!(m.backend() instanceof CudaBackend cb)) return null;
        KernelProfile p = new KernelProfile();
        cb.synchronize();
        cb.context().profile(p);
        long t0 = System.nanoTime();
        try {
            routingPass(m, seqs);
            cb.synchronize();
        } finally {
            cb.context().profile(null);
        }
        double wallMs = (System.nanoTime() - t0) / 1e6;
        p.drain();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("wall_ms", wallMs);
        out.put("kernel_ms", p.totalMillis());
        out.put("host_ms", wallMs - p.totalMillis());
        List<Map<String, Object>> kernels = new ArrayList<>();
        for (KernelProfile.Entry e : p.entries()) {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("kernel", e.kernel());
            k.put("launches", e.launches());
            k.put("ms", e.millis());
            k.put("share_of_wall", e.millis() / wallMs);
            kernels.add(k);
            System.out.printf("  %-28s %6d launches %9.3f ms  %5.1f %%%n", e.kernel(), e.launches(), e.millis(), 100 * e.millis() / wallMs);
        }
        System.out.printf("  kernels %.3f ms of %.3f ms wall%n", p.totalMillis(), wallMs);
        out.put("kernels", kernels);
        return out;
    }

    /** One routing pass: all layers, the top-k ids of every MoE layer kept on the backend, downloaded at the end. */
    static void routingPass(MoeModel m, List<int[]> seqs) {
        Backend b = m.backend();
        List<Tensor> kept = new ArrayList<>();
        ForwardTaps capture = new ForwardTaps() {
            @Override public void routing(int layer, Activations batch, Tensor x, Tensor ids, Tensor w, Tensor logits) {
                Tensor copy = b.allocate(ids.type(), ids.rows(), ids.cols(), "ids copy");
                b.copyRows(ids, 0, copy, 0, ids.rows());
                kept.add(copy);
            }
        };
        try (Activations act = m.embed(seqs, 0)) {
            m.forward(List.of(act), capture);
            for (Tensor t : kept) b.downloadInts(t);
        } finally {
            kept.forEach(Tensor::close);
        }
    }
}
