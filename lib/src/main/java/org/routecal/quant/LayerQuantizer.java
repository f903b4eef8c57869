package org.routecal.quant;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.ModelWeights;
import org.routecal.model.MoeModel;
import org.routecal.quant.gptq.GptqResult;
import org.routecal.quant.gptq.GptqSolver;
import org.routecal.quant.gptq.PreparedHessian;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.Rtn;

/**
 * Quantizes the Linear modules of one decoder layer from what its {@link LayerCalibration} collected. Modules that
 * read all tokens use the accumulated Hessians (one factorisation per shared input). Routed experts are solved one at
 * a time: the expert's Hessians are built from the stored block input and routing as its mode asks (routed, weighted,
 * all, hybrid, or the min-token fallback), solved, and released, so at most one expert's Hessians are alive; the
 * all-token gate/up Hessian is the same for every expert of the layer and is built and factorised once.
 *
 * <p>Each quantized weight goes to {@code sink} (the checkpoint writer) and back into the model, dequantized, so the
 * sequential re-run of the layer sees it. An expert's down-projection inputs are computed with its original gate/up
 * before they are replaced.
 */
final class LayerQuantizer {
    private final MoeModel model;
    private final Backend backend;
    private final int layer;
    private final QuantScheme scheme;
    private final QuantizeOptions o;
    private final List<Object[]> report;
    private final List<LinearModules.Module> active = new ArrayList<>();
    final FallbackCounts fallbacks = new FallbackCounts();
    final List<String> warnings = new ArrayList<>();

    /** Experts (and modules) that did not get their mode's Hessian, by why. */
    static final class FallbackCounts {
        int minTokenAll, minTokenRtn, choleskyRtn;

        int total() { return minTokenAll + minTokenRtn + choleskyRtn; }

        void add(FallbackCounts o) {
            minTokenAll += o.minTokenAll;
            minTokenRtn += o.minTokenRtn;
            choleskyRtn += o.choleskyRtn;
        }
    }

    LayerQuantizer(MoeModel model, int layer, QuantScheme scheme, QuantizeOptions o, IgnoreRules rules, List<Object[]> report) {
        this.model = model;
        this.backend = model.backend();
        this.layer = layer;
        this.scheme = scheme;
        this.o = o;
        this.report = report;
        for (LinearModules.Module m : LinearModules.ofLayer(model.config(), layer)) if (!rules.ignores(m.module())) active.add(m);
    }

    /** The input Hessians the forward taps must accumulate: modules outside the routed experts, quantized with GPTQ. */
    Set<String> hessianKeys() {
        Set<String> keys = new LinkedHashSet<>();
        if (!o.gptq()) return keys;
        for (LinearModules.Module m : active) if (!isExpert(m) && m.role() != LinearModules.Role.ROUTER) keys.add(m.hessianKey());
        return keys;
    }

    private static boolean isExpert(LinearModules.Module m) {
        return m.role() == LinearModules.Role.EXPERT_IN || m.role() == LinearModules.Role.EXPERT_DOWN;
    }

    /** Quantizes every active module of the layer; each result goes to {@code sink} and replaces the model's weight. */
    void quantize(LayerCalibration cal, BiConsumer<String, QuantizedWeight> sink) {
        Map<String, List<LinearModules.Module>> dense = new LinkedHashMap<>();
        Map<Integer, List<LinearModules.Module>> experts = new LinkedHashMap<>();
        for (LinearModules.Module m : active) {
            if (isExpert(m)) experts.computeIfAbsent(m.expert(), e -> new ArrayList<>()).add(m);
            else dense.computeIfAbsent(m.role() == LinearModules.Role.ROUTER ? m.module() : m.hessianKey(), k -> new ArrayList<>()).add(m);
        }
        try (AllTokenHessians all = new AllTokenHessians(cal)) {
            for (List<LinearModules.Module> group : dense.values()) {
                LinearModules.Module first = group.get(0);
                double[] h = null;
                long rows = 0;
                if (o.gptq()) {
                    if (first.role() == LinearModules.Role.ROUTER) {
                        h = all.blockInput();
                        rows = cal.tokens();
                    } else if (cal.hessians.containsKey(first.hessianKey())) {
                        h = backend.downloadDoubles(cal.hessians.get(first.hessianKey()));
                        rows = cal.hessianRows.get(first.hessianKey());
                    }
                }
                solveGroup(group, h, h == null ? "none" : "plain", rows, rows, h == null && o.gptq() ? "rtn" : "none", null, sink);
            }
            for (Map.Entry<Integer, List<LinearModules.Module>> e : experts.entrySet()) solveExpert(cal, all, e.getKey(), e.getValue(), sink);
        }
    }

    // ---- experts ---------------------------------------------------------------------------------------------------

    private void solveExpert(LayerCalibration cal, AllTokenHessians all, int expert, List<LinearModules.Module> modules,
                             BiConsumer<String, QuantizedWeight> sink) {
        List<LinearModules.Module> in = modules.stream().filter(m -> m.role() == LinearModules.Role.EXPERT_IN).toList();
        List<LinearModules.Module> down = modules.stream().filter(m -> m.role() == LinearModules.Role.EXPERT_DOWN).toList();
        if (!o.gptq()) {
            solveGroup(in, null, "none", 0, 0, "none", null, sink);
            solveGroup(down, null, "none", 0, 0, "none", null, sink);
            return;
        }
        // the expert's routed tokens and their routing weights
        int k = cal.topK, tokens = cal.tokens();
        List<Integer> rowList = new ArrayList<>();
        List<Float> weightList = new ArrayList<>();
        if (cal.ids != null) {
            for (int i = 0; i < cal.ids.length; i++) {
                if (cal.ids[i] == expert) {
                    rowList.add(i / k);
                    weightList.add(cal.weights[i]);
                }
            }
        }
        int routed = rowList.size();
        int[] rows = rowList.stream().mapToInt(Integer::intValue).toArray();
        float[] w = new float[routed];
        for (int i = 0; i < routed; i++) w[i] = weightList.get(i);

        MoeMode mode = o.moeMode();
        String hessian, fallback = "none";
        boolean useRouted = false, useAll = false;
        if (mode == MoeMode.ALL) {
            hessian = "all";
            useAll = true;
        } else if (routed < o.minTokens() || routed == 0) {
            if (o.fallbackToAll()) {
                hessian = "all";
                fallback = "all";
                useAll = true;
                fallbacks.minTokenAll++;
            } else {
                hessian = "none";
                fallback = "rtn";
                fallbacks.minTokenRtn++;
            }
        } else {
            hessian = mode.id();
            useRouted = true;
            useAll = mode == MoeMode.HYBRID;
        }
        double f = o.hybridLambda() * routed / (double) Math.max(1, tokens); // hybrid: λ·(n_r/n_all)
        boolean weighted = mode == MoeMode.WEIGHTED;

        // gate/up: rows of the block input; down: the expert's activation on those rows, with its ORIGINAL gate/up
        double[] hIn = null, hDown = null;
        PreparedHessian sharedIn = null;
        ModelWeights.Experts ew = model.weights().experts(model.family().tensors(), layer, model.config().expertCount(),
                model.config().expertIntermediateSize(), model.config().hiddenSize());
        Tensor gateUp = ew.gateUp().get(expert);
        if (useRouted) {
            try (Tensor idx = backend.uploadInts(rows, 1, Math.max(1, routed), "expert rows");
                 Tensor wt = weighted ? backend.upload(w, 1, routed, TensorType.F32, "expert weights") : null;
                 Tensor hR = backend.allocate(backend.hessianType(), cal.blockInput.cols(), cal.blockInput.cols(), "H routed");
                 Tensor x = backend.allocate(TensorType.F32, routed, cal.blockInput.cols(), "expert rows");
                 Tensor hD = backend.allocate(backend.hessianType(), gateUp.rowCount() / 2, gateUp.rowCount() / 2, "H down routed")) {
                backend.gram(cal.blockInput, idx, wt, new int[]{0, routed}, hR, 1f);
                backend.gatherRows(cal.blockInput, idx, x);
                try (Tensor a = activation(x, gateUp)) {
                    backend.gram(a, null, wt, new int[]{0, routed}, hD, 1f);
                }
                hIn = backend.downloadDoubles(hR);
                hDown = backend.downloadDoubles(hD);
            }
        }
        if (useAll) {
            double[] allDown = all.down(gateUp);
            if (hIn == null) {
                sharedIn = all.preparedBlockInput();
                hIn = all.blockInput();
                hDown = allDown;
            } else {
                double[] ai = all.blockInput();
                for (int i = 0; i < hIn.length; i++) hIn[i] += f * ai[i];
                for (int i = 0; i < hDown.length; i++) hDown[i] += f * allDown[i];
            }
        }
        solveGroup(in, hIn, hessian, routed, tokens, fallback, sharedIn, sink);
        solveGroup(down, hDown, hessian, routed, tokens, fallback, null, sink);
    }

    /** silu(x·gateᵀ)·(x·upᵀ) for x [n, H] and a fused gate/up [2I, H]: the down projection's input. */
    private Tensor activation(Tensor x, Tensor gateUp) {
        int inter = gateUp.rowCount() / 2;
        try (Tensor gu = backend.allocate(TensorType.F32, x.rows(), 2 * inter, "gate_up")) {
            backend.linear(x, gateUp, null, gu, false);
            Tensor a = backend.allocate(TensorType.F32, x.rows(), inter, "act");
            backend.siluMul(gu, a);
            return a;
        }
    }

    /**
     * The all-token Hessians of one layer, built on first use: the block input's (every expert's gate/up in all mode,
     * the router), factorised once; and per expert the down projection's over all tokens.
     */
    private final class AllTokenHessians implements AutoCloseable {
        private final LayerCalibration cal;
        private double[] blockInput;
        private PreparedHessian prepared;

        AllTokenHessians(LayerCalibration cal) { this.cal = cal; }

        double[] blockInput() {
            if (blockInput == null && cal.blockInput != null) {
                int cols = cal.blockInput.cols();
                try (Tensor h = backend.allocate(backend.hessianType(), cols, cols, "H block input")) {
                    backend.gram(cal.blockInput, null, null, new int[]{0, cal.tokens()}, h, 1f);
                    blockInput = backend.downloadDoubles(h);
                }
            }
            return blockInput == null ? null : blockInput.clone();
        }

        PreparedHessian preparedBlockInput() {
            if (prepared == null) {
                double[] h = blockInput();
                prepared = GptqSolver.prepare("layer " + layer + " block input", h, cal.blockInput.cols(), o.gptqArgs());
            }
            return prepared;
        }

        double[] down(Tensor gateUp) {
            int inter = gateUp.rowCount() / 2;
            try (Tensor a = activation(cal.blockInput, gateUp);
                 Tensor h = backend.allocate(backend.hessianType(), inter, inter, "H down all")) {
                backend.gram(a, null, null, new int[]{0, cal.tokens()}, h, 1f);
                return backend.downloadDoubles(h);
            }
        }

        @Override public void close() { blockInput = null; prepared = null; }
    }

    // ---- one group of modules sharing an input ------------------------------------------------------------------------

    /** Quantizes modules that share one Hessian (null: RTN); reports each. */
    private void solveGroup(List<LinearModules.Module> group, double[] h, String hessian, long routed, long all, String fallback,
                            PreparedHessian shared, BiConsumer<String, QuantizedWeight> sink) {
        if (group.isEmpty()) return;
        Map<String, float[]> weights = new LinkedHashMap<>();
        Map<String, int[]> shapes = new HashMap<>();
        for (LinearModules.Module m : group) {
            long[] s = model.weights().source().shape(m.module() + ".weight");
            int rows = (int) s[0], cols = (int) s[1];
            shapes.put(m.module(), new int[]{rows, cols});
            weights.put(m.module(), model.weights().hostValues(m.module() + ".weight", rows, cols));
        }
        float gs = nvfp4GlobalScale(weights);
        PreparedHessian p = shared;
        if (h != null && p == null) p = GptqSolver.prepare(group.get(0).hessianKey(), h, shapes.get(group.get(0).module())[1], o.gptqArgs());
        for (LinearModules.Module m : group) {
            long t0 = System.nanoTime();
            int[] shape = shapes.get(m.module());
            float[] w = weights.get(m.module());
            QuantizedWeight q;
            Double loss = null;
            int dead = 0;
            String fb = fallback;
            if (p == null) {
                q = Rtn.quantize(scheme, w, shape[0], shape[1], gs);
            } else {
                GptqResult r = GptqSolver.solve(m.module(), scheme, w, shape[0], shape[1], p, o.gptqArgs(), gs);
                q = r.weight();
                loss = r.loss();
                dead = r.deadColumns();
                if (r.fallback()) {
                    fb = "cholesky_rtn";
                    fallbacks.choleskyRtn++;
                    warnings.add(m.module() + ": " + r.fallbackReason() + "; rounded (RTN) instead");
                }
            }
            float[] deq = q.dequantize();
            report.add(QuantReport.row(m, o.gptq() ? "gptq" : "rtn", hessian, routed, all, fb, dead, loss,
                    relativeError(w, deq, h, shape[0], shape[1]), (System.nanoTime() - t0) / 1e9));
            sink.accept(m.module(), q);
            model.overrideWeight(m.module() + ".weight", deq);
        }
    }

    /** NVFP4: fused projections (q/k/v, an expert's gate/up) share the smallest global-scale divisor; NaN otherwise. */
    private float nvfp4GlobalScale(Map<String, float[]> weights) {
        if (!(scheme instanceof Nvfp4Scheme)) return Float.NaN;
        float gs = Float.POSITIVE_INFINITY;
        for (float[] w : weights.values()) gs = Math.min(gs, Nvfp4Scheme.globalScale(Nvfp4Scheme.amax(w)));
        return gs;
    }

    /** Σ ΔW²·H_jj / Σ W²·H_jj (diagonal-weighted output error), or plain relative Frobenius without a Hessian. */
    static double relativeError(float[] w, float[] q, double[] h, int rows, int cols) {
        double num = 0, den = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double d = h == null ? 1 : h[c * cols + c];
                double x = w[r * cols + c], e = x - q[r * cols + c];
                num += e * e * d;
                den += x * x * d;
            }
        }
        return den == 0 ? 0 : num / den;
    }
}
