package org.routecal.quant;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.routecal.RoutecalException;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.Activations;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.ModelWeights;
import org.routecal.model.MoeModel;
import org.routecal.model.TensorSource;
import org.routecal.model.family.SharedExpert;
import org.routecal.quant.LinearModules.Role;
import org.routecal.quant.awq.ActivationMean;
import org.routecal.quant.awq.AwqBalance;
import org.routecal.quant.awq.AwqLoss;
import org.routecal.quant.AwqMappings.Mapping;
import org.routecal.quant.awq.AwqResult;
import org.routecal.quant.awq.AwqSearch;
import org.routecal.quant.awq.LinearOutputLoss;
import org.routecal.quant.awq.MoeBlockLoss;
import org.routecal.quant.scheme.QuantScheme;

/**
 * AWQ for one decoder layer, before its GPTQ/RTN solve: a calibration pass (on copies of the layer's inputs) collects
 * each mapping's statistics, every {@link AwqMappings} mapping is grid-searched, and the chosen scales are folded into
 * the model ({@link LayerSmoothing}). The quantize stage then calibrates the layer again, on the folded model, so the
 * Hessians GPTQ uses are those of the smoothed inputs (S⁻¹HS⁻¹, as {@code AwqFold.smoothedHessian} computes) and the
 * device GPTQ path works unchanged.
 *
 * <p>What each mapping's search reads (x̄ = mean |x| of the activation the balances read; the loss = its parent's
 * output error):
 * <ul>
 *   <li>input_layernorm → q/k/v: x̄ over every calibration token (the q_proj input tap); the loss is the model's own
 *       attention block run on the first calibration batch ({@link AttentionOutputLoss});</li>
 *   <li>post_attention_layernorm → router + every expert's gate/up (+ shared expert): one scale vector for all of
 *       them (one norm feeds them; vLLM fuses gate/up); x̄ over every token (the router input tap); the loss is the
 *       MoE block's output on the first {@value #LOSS_TOKENS} tokens ({@link MoeBlockLoss}): in {@code routed} mode the
 *       reference's (routed experts combined with their routing weights); in {@code all}, {@code weighted} and
 *       {@code hybrid} mode each expert's own output error over the tokens that mode gives it, weighted as it weights
 *       them ({@link ExpertTokenWeights}, min-token fallback included; of the tokens not routed to it, at most
 *       {@value #OTHER_LOSS_TOKENS}, reweighted). A dense layer's MLP is one such MLP;</li>
 *   <li>up_proj → down_proj of a routed expert: per expert, under its calibration mode: x̄ and the loss's Gram
 *       matrix over the expert's activations on the tokens {@link ExpertTokenWeights} gives it (all its routed
 *       tokens, and of the others at most {@value #OTHER_TOKENS}, reweighted; an expert left to RTN by the min-token
 *       policy keeps identity scales);</li>
 *   <li>v_proj → o_proj (no GQA only) and a shared expert's or dense MLP's up → down: x̄ and the Gram matrix of the
 *       balance's input over every token (the Linear-output loss is exact from the Gram matrix).</li>
 * </ul>
 * Everything runs through the backend's ops or on the host, so the CPU and GPU backends run it alike.
 */
final class AwqLayer {
    private AwqLayer() {}

    /** Tokens of the host-side block losses (MoE and dense MLP): bounds their cost per grid point. */
    static final int LOSS_TOKENS = 1024;
    /**
     * Tokens outside an expert's routed ones that its statistics keep when its mode gives them weight (all, hybrid):
     * an evenly spaced subset, weights scaled to keep the token mass, so an expert costs about its routed tokens plus
     * this many instead of every calibration token (in the up → down statistics, and per expert in the block loss).
     */
    static final int OTHER_TOKENS = 4096, OTHER_LOSS_TOKENS = 128;

    /**
     * Refuses, naming why, a model whose layers do not have the four mappings above as {@link AwqMappings} describes
     * them (the folding would not be exact, or the block loss would compute another function), or whose weights are
     * stored encoded (the folded values would be written over tensors the export decodes itself).
     */
    static void requireSupported(MoeModel model) {
        ModelConfig c = model.config();
        org.routecal.model.family.ExpertLayout experts = c.family().experts();
        String why = c.mla() != null ? "multi-head latent attention (q_b_proj and kv_b_proj read their own norms)"
                : experts.packed3d() ? "packed 3-D experts"
                : experts.bias() ? "expert biases"
                : experts.activation() != org.routecal.model.family.ExpertLayout.Activation.SILU_GLU ? "a gated activation other than SiLU"
                : c.family().routerRule(c).weightTarget() != org.routecal.compute.RouterRule.WeightTarget.EXPERT_OUTPUT
                        ? "routing weights applied to the experts' input" : null;
        if (why == null) {
            TensorSource src = model.weights().source();
            for (String n : src.names()) {
                if (src.storedForm(n).encoding() != org.routecal.model.StoredForm.Encoding.PLAIN) {
                    why = "weights stored encoded (" + n + " is " + src.storedForm(n).encoding().name().toLowerCase(java.util.Locale.ROOT)
                            + "; quantize the unquantized checkpoint)";
                    break;
                }
            }
        }
        if (why != null) throw new RoutecalException("--awq: " + c.family().name() + " has " + why + ", which routecal's AWQ does not handle; "
                + "quantize without --awq");
    }

    /**
     * Searches and folds the AWQ scales of {@code layer}.
     *
     * @param acts        the layer's inputs (not modified: the statistics pass runs on copies); the first batch is the
     *                    attention loss's sample
     * @param batchTokens tokens of each batch
     * @param lq          the layer's quantizer: which modules are quantized, and at which width
     * @param report      one {@link AwqReport} row per mapping is appended
     * @return the layer's smoothing, already folded into {@code model}
     */
    static LayerSmoothing smooth(MoeModel model, int layer, List<Activations> acts, List<Integer> batchTokens, LayerQuantizer lq,
                                 QuantizeOptions o, List<Object[]> report) {
        ModelConfig config = model.config();
        List<Mapping> mappings = AwqMappings.ofLayer(config, layer);
        Map<String, LinearModules.Module> modules = new LinkedHashMap<>();
        for (LinearModules.Module m : LinearModules.ofLayer(config, layer)) modules.put(m.module(), m);
        Set<String> meanKeys = new LinkedHashSet<>(), sampleKeys = new LinkedHashSet<>(), gramKeys = new LinkedHashSet<>();
        for (Mapping m : mappings) {
            String first = m.balances().get(0);
            switch (m.parent()) {
                case ATTENTION -> meanKeys.add(first);
                case MOE_BLOCK, DENSE_MLP -> {
                    meanKeys.add(first);
                    sampleKeys.add(first);
                }
                case LINEAR -> {
                    if (m.expert() < 0) {
                        meanKeys.add(first);
                        gramKeys.add(first);
                    }
                }
            }
        }
        LayerSmoothing smoothing = new LayerSmoothing();
        try (LayerCalibration cal = new LayerCalibration(layer, model.backend(), gramKeys, batchTokens)
                .withActivationStatistics(meanKeys, sampleKeys, LOSS_TOKENS)) {
            for (Activations act : acts) {
                try (Activations copy = QuantizeStage.copy(model, act)) {
                    model.layer(layer, copy, cal);
                }
            }
            Search s = new Search(model, layer, cal, acts.get(0), lq, o, modules);
            for (Mapping m : mappings) {
                AwqResult r = s.run(m);
                report.add(AwqReport.row(layer, m, s.statistics, s.fallback, s.tokens, r));
                if (r.skipped() != null) continue;
                if (m.norm()) smoothing.divideNorm(m.smooth() + ".weight", r.scales());
                else smoothing.divideRows(m.smooth(), r.scales());
                for (String b : m.balances()) smoothing.scaleColumns(b, r.scales());
            }
        }
        smoothing.foldInto(model);
        return smoothing;
    }

    /** The search of one layer's mappings over one statistics pass; {@link #statistics} etc. describe the last run. */
    private static final class Search {
        private final MoeModel model;
        private final Backend backend;
        private final TensorSource source;
        private final int layer;
        private final LayerCalibration cal;
        private final Activations sample;
        private final LayerQuantizer lq;
        private final QuantizeOptions o;
        private final Map<String, LinearModules.Module> modules;
        String statistics, fallback;
        long tokens;

        Search(MoeModel model, int layer, LayerCalibration cal, Activations sample, LayerQuantizer lq, QuantizeOptions o,
               Map<String, LinearModules.Module> modules) {
            this.model = model;
            this.backend = model.backend();
            this.source = model.weights().source();
            this.layer = layer;
            this.cal = cal;
            this.sample = sample;
            this.lq = lq;
            this.o = o;
            this.modules = modules;
        }

        AwqResult run(Mapping m) {
            statistics = "all";
            fallback = "none";
            tokens = cal.tokens();
            List<AwqBalance> balances = new ArrayList<>();
            for (String b : m.balances()) {
                long[] shape = source.shape(b + ".weight");
                balances.add(new AwqBalance(b, source.readFloat(b + ".weight"), (int) shape[0], (int) shape[1], lq.schemeFor(b)));
            }
            int cols = balances.get(0).cols();
            if (balances.stream().noneMatch(AwqBalance::quantized)) return AwqSearch.skipped(cols, "none of its balance layers is quantized");
            String smooth = "layer " + layer + " " + m.smooth();
            return switch (m.parent()) {
                case ATTENTION -> attention(m, smooth, balances, cols);
                case MOE_BLOCK, DENSE_MLP -> block(m, smooth, balances, cols);
                case LINEAR -> m.expert() >= 0 ? routedExpert(m, smooth, balances, cols) : linear(m, smooth, balances, cols);
            };
        }

        private AwqResult attention(Mapping m, String smooth, List<AwqBalance> balances, int cols) {
            float[] xMean = mean(m.balances().get(0));
            if (xMean == null) return AwqSearch.skipped(cols, "no activations reached it");
            List<String> names = m.balances().stream().map(b -> b + ".weight").toList();
            try (AttentionOutputLoss loss = new AttentionOutputLoss(model, layer, sample, names,
                    balances.stream().map(AwqBalance::weight).toList())) {
                return AwqSearch.search(smooth, xMean, balances, o.awq(), loss);
            }
        }

        /** v_proj → o_proj, and a shared expert's or dense MLP's up → down: x̄ and the Gram matrix over every token. */
        private AwqResult linear(Mapping m, String smooth, List<AwqBalance> balances, int cols) {
            String key = m.balances().get(0);
            float[] xMean = mean(key);
            Tensor h = cal.hessians.get(key);
            if (xMean == null || h == null) return AwqSearch.skipped(cols, "no activations reached it");
            tokens = cal.hessianRows.get(key);
            return AwqSearch.search(smooth, xMean, balances, o.awq(), LinearOutputLoss.ofGram(balances, backend.downloadDoubles(h), tokens));
        }

        /** up_proj → down_proj of routed expert {@code m.expert()}: its activations on the tokens its mode gives it. */
        private AwqResult routedExpert(Mapping m, String smooth, List<AwqBalance> balances, int cols) {
            ExpertTokenWeights etw = tokenWeights(m.expert());
            statistics = etw.source();
            fallback = etw.fallback();
            tokens = etw.routed();
            if (etw.weights() == null) return AwqSearch.skipped(cols, "fewer than " + o.minTokens() + " routed tokens: rounded (RTN), no AWQ");
            Sample sample = sample(m.expert(), cal.tokens(), OTHER_TOKENS);
            int[] rows = sample.rows();
            float[] w = sample.weights();
            int n = rows.length;
            if (n == 0) return AwqSearch.skipped(cols, "no token reached it");
            ModelWeights.Experts experts = lq.experts();
            int hidden = cal.blockInput.cols(), inter = experts.intermediate();
            float[] act;
            double[] gram = null;
            double mass = 0;
            for (float c : w) mass += c;
            // fewer tokens than down's inputs (a rarely routed expert): the loss from the rows (n·inter per output row
            // and evaluation) is cheaper than from their Gram matrix (inter²)
            boolean fromRows = n < inter;
            try (Tensor idx = backend.uploadInts(rows, 1, n, "AWQ expert rows");
                 Tensor wt = backend.upload(w, 1, n, TensorType.F32, "AWQ expert token weights");
                 Tensor x = backend.allocate(TensorType.F32, n, hidden, "AWQ expert rows");
                 Tensor h = fromRows ? null : backend.allocate(backend.hessianType(), inter, inter, "AWQ down Gram")) {
                backend.gatherRows(cal.blockInput, idx, x);
                try (Tensor a = experts.activation(backend, m.expert(), x)) {
                    act = backend.download(a);
                    if (!fromRows) backend.gram(a, null, wt, new int[]{0, n}, h, 1f);
                }
                if (!fromRows) gram = backend.downloadDoubles(h);
            }
            ActivationMean mean = new ActivationMean(inter);
            mean.add(act, n, w);
            return AwqSearch.search(smooth, mean.mean(), balances, o.awq(),
                    fromRows ? LinearOutputLoss.ofRows(balances, act, n, w) : LinearOutputLoss.ofGram(balances, gram, mass));
        }

        /** The MoE block (router + experts' gate/up + shared expert) or a dense MLP, on the first calibration tokens. */
        private AwqResult block(Mapping m, String smooth, List<AwqBalance> balances, int cols) {
            String key = m.balances().get(0);
            float[] xMean = mean(key), x = cal.samples.get(key);
            if (xMean == null || x == null) return AwqSearch.skipped(cols, "no activations reached it");
            int n = x.length / cols;
            Map<String, Integer> index = new LinkedHashMap<>();
            for (int i = 0; i < balances.size(); i++) index.put(balances.get(i).module(), i);
            List<MoeBlockLoss.Mlp> mlps = new ArrayList<>();
            boolean perExpert = m.parent() == AwqMappings.Parent.MOE_BLOCK && o.moeMode() != MoeMode.ROUTED;
            if (m.parent() == AwqMappings.Parent.MOE_BLOCK) {
                statistics = perExpert ? o.moeMode().id() : "routed";
                for (int e = 0; e < model.config().expertCount(); e++) routedMlp(e, n, index, perExpert, mlps);
            }
            float[] ones = new float[n];
            java.util.Arrays.fill(ones, 1f);
            int[] all = new int[n];
            for (int t = 0; t < n; t++) all[t] = t;
            for (LinearModules.Module mod : modules.values()) {
                // the dense MLP, or the shared expert next to the routed ones (gated by sigmoid(shared_expert_gate·x))
                if (mod.role() != Role.DENSE_IN && mod.role() != Role.SHARED_IN || !mod.module().equals(mod.hessianKey())) continue;
                Integer gate = index.get(mod.module()), up = index.get(upOf(mod));
                if (gate == null || up == null) continue;
                float[] c = mod.role() == Role.SHARED_IN ? sharedGate(x, n, cols, index, balances, perExpert) : ones;
                mlps.add(mlp(gate, up, downOf(mod), all, c));
            }
            if (mlps.isEmpty()) return AwqSearch.skipped(cols, "no token reached its experts");
            MoeBlockLoss loss = new MoeBlockLoss(balances, x, n, cols, mlps, perExpert ? MoeBlockLoss.Combine.PER_EXPERT : MoeBlockLoss.Combine.BLOCK);
            tokens = n;
            return AwqSearch.search(smooth, xMean, balances, o.awq(), loss);
        }

        /** Routed expert {@code e} on the sample tokens: routing-weighted (the reference) or its mode's token weights. */
        private void routedMlp(int e, int n, Map<String, Integer> index, boolean perExpert, List<MoeBlockLoss.Mlp> mlps) {
            LinearModules.Module gate = null;
            for (LinearModules.Module mod : modules.values()) {
                if (mod.role() == Role.EXPERT_IN && mod.expert() == e && mod.module().equals(mod.hessianKey())) gate = mod;
            }
            if (gate == null || !index.containsKey(gate.module()) || !index.containsKey(upOf(gate))) return;
            int k = cal.topK;
            List<Integer> tok = new ArrayList<>();
            List<Float> c = new ArrayList<>();
            if (perExpert) {
                if (tokenWeights(e).weights() == null) return; // left to RTN by the min-token policy: not part of the loss
                Sample s = sample(e, n, OTHER_LOSS_TOKENS);
                for (int i = 0; i < s.rows().length; i++) {
                    tok.add(s.rows()[i]);
                    c.add(s.weights()[i]);
                }
            } else {
                for (int t = 0; t < n; t++) {
                    for (int j = 0; j < k; j++) {
                        if (cal.ids[t * k + j] == e) {
                            tok.add(t);
                            c.add(cal.weights[t * k + j]);
                        }
                    }
                }
            }
            if (tok.isEmpty()) return;
            float[] cw = new float[c.size()];
            for (int i = 0; i < cw.length; i++) cw[i] = c.get(i);
            mlps.add(mlp(index.get(gate.module()), index.get(upOf(gate)), downOf(gate), tok.stream().mapToInt(Integer::intValue).toArray(), cw));
        }

        private MoeBlockLoss.Mlp mlp(int gate, int up, String down, int[] tokens, float[] combine) {
            long[] shape = source.shape(down + ".weight"); // [hidden, inter]
            return new MoeBlockLoss.Mlp(gate, up, source.readFloat(down + ".weight"), (int) shape[1], tokens, combine);
        }

        /** The shared expert's per-token weight: sigmoid(gate·x) where the family gates it (squared for per-expert errors), else 1. */
        private float[] sharedGate(float[] x, int n, int cols, Map<String, Integer> index, List<AwqBalance> balances, boolean squared) {
            float[] c = new float[n];
            java.util.Arrays.fill(c, 1f);
            if (model.family().sharedExpert().gate() != SharedExpert.Gate.SIGMOID) return c;
            LinearModules.Module g = modules.values().stream().filter(mod -> mod.role() == Role.SHARED_GATE).findFirst().orElse(null);
            if (g == null) return c;
            float[] w = source.readFloat(g.module() + ".weight"); // [1, hidden]
            for (int t = 0; t < n; t++) {
                double z = 0;
                for (int j = 0; j < cols; j++) z += (double) w[j] * x[t * cols + j];
                double s = 1 / (1 + Math.exp(-z));
                c[t] = (float) (squared ? s * s : s);
            }
            return c;
        }

        /** The module after {@code gate} in forward order reading the same input: its up_proj. */
        private String upOf(LinearModules.Module gate) {
            boolean next = false;
            for (LinearModules.Module mod : modules.values()) {
                if (next) return mod.module();
                next = mod == gate;
            }
            return null;
        }

        /** The down projection following a gate/up pair in forward order. */
        private String downOf(LinearModules.Module gate) {
            int seen = 0;
            for (LinearModules.Module mod : modules.values()) {
                if (seen > 0 && ++seen == 3) return mod.module();
                if (mod == gate) seen = 1;
            }
            throw new IllegalStateException("no down projection after " + gate.module());
        }

        private float[] mean(String key) {
            ActivationMean a = cal.means.get(key);
            return a == null ? null : a.mean();
        }

        private final Map<Integer, ExpertTokenWeights> tokenWeights = new LinkedHashMap<>();
        private final Map<Integer, float[]> routingWeights = new LinkedHashMap<>();

        /** Expert {@code e}'s token weights under the calibration mode, over every calibration token. */
        private ExpertTokenWeights tokenWeights(int e) {
            return tokenWeights.computeIfAbsent(e, ex -> ExpertTokenWeights.of(o.moeMode(), o.hybridLambda(), o.minTokens(),
                    o.fallbackToAll(), routingWeights(ex)));
        }

        /** [tokens] expert {@code e}'s routing weight per calibration token, 0 where it was not routed. */
        private float[] routingWeights(int e) {
            return routingWeights.computeIfAbsent(e, ex -> {
                int k = cal.topK;
                float[] rw = new float[cal.tokens()];
                for (int i = 0; i < cal.ids.length; i++) {
                    // a token routed to the expert with weight 0 still counts as routed
                    if (cal.ids[i] == ex) rw[i / k] = Math.max(cal.weights[i], Float.MIN_VALUE);
                }
                return rw;
            });
        }

        /** Token rows (ascending) and their statistics weights. */
        private record Sample(int[] rows, float[] weights) {}

        /**
         * Expert {@code e}'s tokens among the first {@code limit} under its mode: every routed token with its weight,
         * and of the other tokens its mode weighs (all, hybrid) an evenly spaced subset of at most {@code others},
         * weights multiplied by (those there were / those kept) so the subset carries their whole mass.
         */
        private Sample sample(int e, int limit, int others) {
            float[] w = tokenWeights(e).weights(), rw = routingWeights(e);
            List<Integer> routed = new ArrayList<>(), rest = new ArrayList<>();
            for (int t = 0; t < limit; t++) {
                if (!(w[t] > 0f)) continue;
                (rw[t] > 0f ? routed : rest).add(t);
            }
            int keep = Math.min(rest.size(), others);
            float scale = keep == 0 ? 1f : rest.size() / (float) keep;
            java.util.TreeMap<Integer, Float> picked = new java.util.TreeMap<>();
            for (int t : routed) picked.put(t, w[t]);
            for (int i = 0; i < keep; i++) {
                int t = rest.get((int) ((long) i * rest.size() / keep));
                picked.put(t, w[t] * scale);
            }
            int[] rows = new int[picked.size()];
            float[] weights = new float[rows.length];
            int j = 0;
            for (Map.Entry<Integer, Float> p : picked.entrySet()) {
                rows[j] = p.getKey();
                weights[j++] = p.getValue();
            }
            return new Sample(rows, weights);
        }
    }
}
