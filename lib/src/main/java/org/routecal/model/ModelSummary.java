package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import org.routecal.model.family.Feature;
import org.routecal.compute.RouterRule;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code routecal inspect} reports about a checkpoint: family, geometry, parameter counts (total and active per
 * token) and the memory a CPU forward pass needs.
 *
 * @param parametersActive non-expert parameters + top-k routed experts + shared experts, per token
 * @param dtypes           parameters per stored dtype
 * @param needs            the mechanisms beyond plain GQA + RoPE + SwiGLU experts this model needs
 * @param missing          those the forward pass lacks: the model is described, and refused by route/quantize/evaluate
 * @param forwardBytes     estimated peak memory of a forward pass over {@code forwardTokens} tokens: the largest layer's
 *                         float32 weights + activations + per-thread attention scores (+ logits of one sequence)
 */
public record ModelSummary(String dir, String family, String modelType, int layers, int moeLayers, int experts, int topK,
                           boolean sharedExpert, RouterRule router, int hidden, int vocab,
                           long parametersTotal, long parametersActive, Map<String, Long> dtypes,
                           List<Feature> needs, List<Feature> missing,
                           int forwardTokens, long forwardBytes, long largestLayerBytes) {

    public static ModelSummary of(MoeModel model, int forwardTokens) {
        return of(model.dir(), model.config(), model.weights().source(), forwardTokens);
    }

    /** A checkpoint's summary without running it: families the forward pass does not run yet are described too. */
    public static ModelSummary of(Path dir, int forwardTokens) {
        ModelConfig c = ModelConfig.load(dir);
        try (CheckpointSource src = CheckpointSource.open(dir)) {
            CheckpointLayout.verify(c, src);
            return of(dir, c, src, forwardTokens);
        }
    }

    /** The summary of a checkpoint opened as {@code src} (e.g. a compressed-tensors reader showing its dequantized weights). */
    public static ModelSummary of(Path dir, ModelConfig c, TensorSource src, int forwardTokens) {
        long total = 0, experts = 0;
        long largestLayer = 0;
        long[] layerBytes = new long[c.layerCount()];
        Map<String, Long> dtypes = new TreeMap<>();
        for (String name : src.names()) {
            long n = 1;
            for (long d : src.shape(name)) n *= d;
            total += n;
            dtypes.merge(src.dtype(name), n, Long::sum);
            if (name.contains(".experts.")) experts += n;
            int l = layerOf(name);
            if (l >= 0 && l < layerBytes.length) layerBytes[l] += 4 * n;
        }
        for (long b : layerBytes) largestLayer = Math.max(largestLayer, b);
        int moeLayers = 0;
        for (int l = 0; l < c.layerCount(); l++) if (c.isMoeLayer(l)) moeLayers++;
        long activeExperts = c.expertCount() == 0 ? 0 : experts / c.expertCount() * c.expertUsedCount();
        long active = total - experts + activeExperts;
        long t = forwardTokens, h = c.hiddenSize();
        long activations = 4 * t * (6 * h + 2L * c.headCount() * c.headDim() + 2L * c.headCountKv() * c.headDim()
                + 3L * Math.max(c.expertIntermediateSize(), c.intermediateSize()) + c.expertCount());
        long scores = 4L * Runtime.getRuntime().availableProcessors() * t;
        long logits = 4L * t * c.vocabSize();
        long embed = 4L * c.vocabSize() * h * (c.tieWordEmbeddings() ? 1 : 2);
        return new ModelSummary(dir.toString(), c.family().name(), c.modelType(), c.layerCount(), moeLayers,
                c.expertCount(), c.expertUsedCount(), c.family().hasSharedExpert(), c.family().routerRule(c),
                c.hiddenSize(), c.vocabSize(), total, active, dtypes, List.copyOf(Feature.required(c)),
                Feature.missing(c, Feature.CURRENT_FORWARD), forwardTokens,
                largestLayer + activations + scores + logits + embed, largestLayer);
    }

    private static int layerOf(String name) {
        int i = name.indexOf(".layers.");
        if (i < 0) return -1;
        int j = name.indexOf('.', i + 8);
        try { return Integer.parseInt(name.substring(i + 8, j)); } catch (RuntimeException e) { return -1; }
    }

    static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] u = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int i = -1;
        do { v /= 1024; i++; } while (v >= 1024 && i < u.length - 1);
        return String.format("%.1f %s", v, u[i]);
    }

    static String count(long n) {
        if (n >= 1_000_000_000L) return String.format("%.2f B", n / 1e9);
        if (n >= 1_000_000L) return String.format("%.2f M", n / 1e6);
        if (n >= 1_000L) return String.format("%.1f K", n / 1e3);
        return Long.toString(n);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        s.append("model        ").append(dir).append('\n');
        s.append("family       ").append(family).append(" (model_type ").append(modelType).append(")\n");
        s.append("layers       ").append(layers).append(" (").append(moeLayers).append(" MoE, ").append(layers - moeLayers).append(" dense)\n");
        s.append("experts      ").append(experts).append(" per MoE layer, top-").append(topK)
                .append(sharedExpert ? ", shared expert" : ", no shared expert").append('\n');
        s.append("router       ").append(router.scoring().name().toLowerCase()).append(router.normalizeTopK() ? ", top-k renormalised" : "")
                .append(router.groupCount() > 1 ? ", grouped " + router.topKGroups() + "/" + router.groupCount() : "").append('\n');
        s.append("hidden       ").append(hidden).append(", vocab ").append(vocab).append('\n');
        s.append("parameters   ").append(count(parametersTotal)).append(" total, ").append(count(parametersActive)).append(" active per token\n");
        s.append("dtypes       ");
        dtypes.forEach((k, v) -> s.append(k).append(' ').append(count(v)).append("  "));
        s.append('\n');
        s.append("needs        ").append(needs.isEmpty() ? "nothing beyond GQA + RoPE + SwiGLU experts"
                : needs.stream().map(Feature::description).collect(java.util.stream.Collectors.joining("; "))).append('\n');
        if (!missing.isEmpty()) {
            s.append("NOT RUNNABLE the forward pass lacks ").append(Feature.describe(missing)).append('\n');
        }
        s.append("forward      ~").append(human(forwardBytes)).append(" peak for ").append(forwardTokens)
                .append(" tokens (largest layer ").append(human(largestLayerBytes)).append(" as float32)\n");
        return s.toString();
    }
}
