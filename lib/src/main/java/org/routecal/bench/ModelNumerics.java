package org.routecal.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.compute.Backend;
import org.routecal.compute.devices.Devices;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.HostRoutingTap;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.compute.Router;
import org.routecal.compute.RouterRule;

/**
 * Model-level numerics against HF transformers on the same GPU (issue: "numerics, defined and tested"). Reads the
 * token sequences and HF's router logits and final logits in fp32 and bf16 (written by tests/gpu/hf_numerics.py), runs
 * our engine on each requested device/precision, and reports per comparison: top-k set agreement over token-layers,
 * agreement outside near-ties (top-k margin of the HF-fp32 choice scores below {@link #NEAR_TIE}), the near-tie rate,
 * the largest routing-weight difference where the sets agree, and logits' NMSE and largest difference relative to
 * the largest reference logit. The HF-bf16 vs HF-fp32 row is the bar a bf16 engine must meet.
 *
 * <pre>java -cp routecal.jar org.routecal.bench.ModelNumerics --model DIR --hf DIR --runs cpu/fp32,cuda/fp32,cuda/bf16 --out x.json</pre>
 */
public final class ModelNumerics {
    /** Choice-score margin between rank k and k+1 below which a token-layer counts as a near-tie. */
    static final double NEAR_TIE = 1e-3;

    private ModelNumerics() {}

    /** Routing and logits of one run over the sequences: ids/weights/choice scores per layer, logits [T, V]. */
    record Run(Map<Integer, int[]> ids, Map<Integer, float[]> weights, Map<Integer, float[]> logitsPerLayer, float[] logits, int topK) {}

    public static void main(String[] args) throws Exception {
        Path model = null, hf = null, out = null;
        String runs = "cpu/fp32,cuda/fp32,cuda/bf16";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = Path.of(args[++i]);
                case "--hf" -> hf = Path.of(args[++i]);
                case "--runs" -> runs = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        List<int[]> sequences = new ArrayList<>();
        for (JsonNode s : json.readTree(hf.resolve("tokens.json").toFile())) {
            int[] a = new int[s.size()];
            for (int i = 0; i < a.length; i++) a[i] = s.get(i).asInt();
            sequences.add(a);
        }
        ModelConfig config = ModelConfig.load(model);
        RouterRule rule = config.family().routerRule(config);
        Map<String, Run> results = new LinkedHashMap<>();
        for (String dtype : List.of("fp32", "bf16")) results.put("hf/" + dtype, readHf(hf.resolve("hf_" + dtype + ".safetensors"), config, rule));
        for (String r : runs.split(",")) {
            String[] dp = r.split("/");
            try (Backend b = Devices.open(dp[0], dp[1], model); MoeModel m = MoeModel.load(model, b)) {
                results.put("routecal/" + r, run(m, sequences));
            }
        }
        Run ref = results.get("hf/fp32");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map.Entry<String, Run> e : results.entrySet()) {
            if (e.getKey().equals("hf/fp32")) continue;
            Map<String, Object> row = compare(e.getKey() + " vs hf/fp32", e.getValue(), ref);
            rows.add(row);
            System.out.println(row);
        }
        Run hfBf16 = results.get("hf/bf16");
        for (Map.Entry<String, Run> e : results.entrySet()) {
            if (!e.getKey().endsWith("bf16") || e.getKey().startsWith("hf")) continue;
            Map<String, Object> row = compare(e.getKey() + " vs hf/bf16", e.getValue(), hfBf16);
            rows.add(row);
            System.out.println(row);
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("model", model.toString());
        report.put("family", config.family().name());
        report.put("sequences", sequences.size());
        report.put("tokens", sequences.stream().mapToInt(s -> s.length).sum());
        report.put("near_tie_margin", NEAR_TIE);
        report.put("comparisons", rows);
        if (out != null) Files.writeString(out, json.writeValueAsString(report));
    }

    private static Run run(MoeModel m, List<int[]> sequences) {
        Map<Integer, int[]> ids = new LinkedHashMap<>();
        Map<Integer, float[]> w = new LinkedHashMap<>(), lg = new LinkedHashMap<>();
        int[] topK = new int[1];
        HostRoutingTap tap = (layer, tokens, k, i, wt, logits) -> {
            ids.put(layer, i);
            w.put(layer, wt);
            lg.put(layer, logits);
            topK[0] = k;
        };
        float[] logits = m.forwardLogits(sequences, tap);
        return new Run(ids, w, lg, logits, topK[0]);
    }

    /** HF's router logits per MoE layer ("layer{L}.router_logits" [T, E]) routed with the family's rule, and logits. */
    private static Run readHf(Path file, ModelConfig config, RouterRule rule) {
        Map<Integer, int[]> ids = new LinkedHashMap<>();
        Map<Integer, float[]> w = new LinkedHashMap<>(), lg = new LinkedHashMap<>();
        float[] logits;
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            int experts = config.expertCount(), k = rule.topK();
            for (int l = 0; l < config.layerCount(); l++) {
                String name = "layer" + l + ".router_logits";
                if (!c.contains(name)) continue;
                float[] x = c.readFloat(name);
                float[] bias = c.contains("layer" + l + ".score_bias") ? c.readFloat("layer" + l + ".score_bias") : null;
                int tokens = x.length / experts;
                int[] id = new int[tokens * k];
                float[] wt = new float[tokens * k];
                for (int t = 0; t < tokens; t++) Router.route(rule, x, t * experts, experts, bias, id, t * k, wt, t * k);
                ids.put(l, id);
                w.put(l, wt);
                lg.put(l, x);
            }
            logits = c.readFloat("logits");
        }
        return new Run(ids, w, lg, logits, rule.topK());
    }

    private static Map<String, Object> compare(String name, Run a, Run ref) {
        long same = 0, total = 0, ties = 0, sameOutsideTies = 0;
        double maxWeightDiff = 0;
        int k = ref.topK();
        for (Map.Entry<Integer, int[]> e : ref.ids().entrySet()) {
            int[] r = e.getValue(), o = a.ids().get(e.getKey());
            float[] rw = ref.weights().get(e.getKey()), ow = a.weights().get(e.getKey());
            float[] scores = ref.logitsPerLayer().get(e.getKey());
            int tokens = r.length / k, experts = scores.length / tokens;
            for (int t = 0; t < tokens; t++) {
                int[] x = Arrays.copyOfRange(r, t * k, t * k + k), y = Arrays.copyOfRange(o, t * k, t * k + k);
                Arrays.sort(x);
                Arrays.sort(y);
                boolean eq = Arrays.equals(x, y);
                boolean tie = margin(scores, t * experts, experts, k) < NEAR_TIE;
                total++;
                if (eq) same++;
                if (tie) ties++;
                else if (eq) sameOutsideTies++;
                if (eq) {
                    for (int j = 0; j < k; j++) {
                        for (int j2 = 0; j2 < k; j2++) {
                            if (r[t * k + j] == o[t * k + j2]) maxWeightDiff = Math.max(maxWeightDiff, Math.abs(rw[t * k + j] - ow[t * k + j2]));
                        }
                    }
                }
            }
        }
        double num = 0, den = 0, maxDiff = 0, maxRef = 0;
        for (int i = 0; i < ref.logits().length; i++) {
            double d = a.logits()[i] - ref.logits()[i];
            num += d * d;
            den += (double) ref.logits()[i] * ref.logits()[i];
            maxDiff = Math.max(maxDiff, Math.abs(d));
            maxRef = Math.max(maxRef, Math.abs(ref.logits()[i]));
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("comparison", name);
        row.put("token_layers", total);
        row.put("topk_agreement", same / (double) total);
        row.put("near_tie_rate", ties / (double) total);
        row.put("topk_agreement_outside_near_ties", (total - ties) == 0 ? 1.0 : sameOutsideTies / (double) (total - ties));
        row.put("max_routing_weight_diff", maxWeightDiff);
        row.put("logits_nmse", num / den);
        row.put("logits_max_diff_rel_to_max", maxDiff / maxRef);
        return row;
    }

    /** Softmax-probability gap between the k-th and (k+1)-th expert of one token's router logits. */
    private static double margin(float[] logits, int off, int experts, int k) {
        if (k >= experts) return Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int e = 0; e < experts; e++) max = Math.max(max, logits[off + e]);
        double[] p = new double[experts];
        for (int e = 0; e < experts; e++) sum += p[e] = Math.exp(logits[off + e] - max);
        for (int e = 0; e < experts; e++) p[e] /= sum;
        Arrays.sort(p);
        return p[experts - k] - p[experts - k - 1];
    }
}
