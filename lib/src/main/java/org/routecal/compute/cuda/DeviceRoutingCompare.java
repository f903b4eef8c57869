package org.routecal.compute.cuda;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.routecal.compute.Ops;
import org.routecal.compute.cpu.Backends;
import org.routecal.model.CalibrationMode;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;

/**
 * Model-level device parity (issue 8 item 4): the same checkpoint and tokens through the CPU backend and through
 * {@link CudaOps}, comparing every layer's routing and the final hidden states. Routing must be identical except at
 * near-ties — tokens whose k-th and (k+1)-th router logits (CPU run) differ by at most {@code --tie-eps} times the
 * row's largest |logit| (default 2⁻⁷, the bf16 step) — and the near-tie rate is reported.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp routecal.jar org.routecal.compute.cuda.DeviceRoutingCompare \
 *     --model DIR [--sequences 4] [--length 128] [--seed 1] [--tie-eps 0.0078125]</pre>
 * Exit 0 when routing agrees outside near-ties, 1 otherwise, 3 without a usable GPU.
 */
public final class DeviceRoutingCompare {
    private DeviceRoutingCompare() {}

    /** Routing of one forward pass, per layer: ids [tokens, k] and router logits [tokens, experts]. */
    private static final class Capture implements ForwardTaps {
        final List<int[]> ids = new ArrayList<>();
        final List<float[]> logits = new ArrayList<>();
        int topK, experts;

        @Override
        public void routing(int layer, int tokens, int k, int[] topkIds, float[] topkWeights, float[] routerLogits) {
            while (ids.size() <= layer) {
                ids.add(null);
                logits.add(null);
            }
            ids.set(layer, topkIds.clone());
            logits.set(layer, routerLogits.clone());
            topK = k;
            experts = routerLogits.length / tokens;
        }
    }

    public static void main(String[] args) throws Exception {
        Path model = null;
        int sequences = 4, length = 128;
        long seed = 1;
        double tieEps = 1.0 / 128;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--model" -> model = Path.of(args[i + 1]);
                case "--sequences" -> sequences = Integer.parseInt(args[i + 1]);
                case "--length" -> length = Integer.parseInt(args[i + 1]);
                case "--seed" -> seed = Long.parseLong(args[i + 1]);
                case "--tie-eps" -> tieEps = Double.parseDouble(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (model == null) throw new IllegalArgumentException("--model DIR is required");
        CudaAvailability.Probe p = CudaAvailability.probe();
        if (!p.available()) {
            System.out.println("device comparison skipped: " + p.reason());
            System.exit(3);
        }
        Ops cpu = Backends.select();
        Capture onCpu = new Capture(), onGpu = new Capture();
        float[] hCpu, hGpu;
        List<int[]> seqs;
        try (MoeModel m = MoeModel.load(model, cpu)) {
            SplittableRandom rnd = new SplittableRandom(seed);
            seqs = new ArrayList<>();
            for (int s = 0; s < sequences; s++) seqs.add(rnd.ints(length, 0, m.config().vocabSize()).toArray());
            hCpu = m.forward(seqs, onCpu, CalibrationMode.ROUTED, false).activations().hidden;
        }
        try (CudaOps gpu = new CudaOps(cpu, CudaContext.open()); MoeModel m = MoeModel.load(model, gpu)) {
            System.out.println("backends: " + cpu.name() + " vs " + gpu.name());
            hGpu = m.forward(seqs, onGpu, CalibrationMode.ROUTED, false).activations().hidden;
        }
        long tokens = 0, nearTies = 0, mismatches = 0, outside = 0;
        for (int l = 0; l < onCpu.ids.size(); l++) {
            int[] a = onCpu.ids.get(l), b = onGpu.ids.get(l);
            if (a == null) continue;  // dense layer
            float[] lg = onCpu.logits.get(l);
            int k = onCpu.topK, e = onCpu.experts, n = a.length / k;
            long layerMis = 0, layerTies = 0;
            for (int t = 0; t < n; t++) {
                float[] row = java.util.Arrays.copyOfRange(lg, t * e, (t + 1) * e);
                float maxAbs = 0;
                for (float v : row) maxAbs = Math.max(maxAbs, Math.abs(v));
                java.util.Arrays.sort(row);
                boolean tie = row[e - k] - row[e - k - 1] <= tieEps * maxAbs;
                boolean same = true;
                for (int j = 0; j < k; j++) same &= a[t * k + j] == b[t * k + j];
                layerTies += tie ? 1 : 0;
                if (!same) {
                    layerMis++;
                    if (!tie) outside++;
                }
            }
            System.out.printf("layer %2d: %d tokens, %d routing differences, near-tie rate %.4f%n", l, n, layerMis, layerTies / (double) n);
            tokens += n;
            nearTies += layerTies;
            mismatches += layerMis;
        }
        double nmse = GpuParity.nmse(hCpu, hGpu);
        System.out.printf("all layers: %d token-layers, %d differ (%d outside near-ties), near-tie rate %.4f; final hidden NMSE %.3g%n",
                tokens, mismatches, outside, nearTies / (double) Math.max(1, tokens), nmse);
        System.exit(outside == 0 ? 0 : 1);
    }
}
