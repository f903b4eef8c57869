package org.routecal.quant;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.routecal.compute.Backend;
import org.routecal.compute.SolverOps;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.ModelWeights;
import org.routecal.model.MoeModel;
import org.routecal.quant.alloc.BitAllocation;
import org.routecal.quant.gptq.DeviceGptq;
import org.routecal.quant.gptq.GptqResult;
import org.routecal.quant.gptq.GptqSolver;
import org.routecal.quant.gptq.PreparedHessian;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.Rtn;

/**
 * Quantizes the Linear modules of one decoder layer from what its {@link LayerCalibration} collected. Modules that
 * read all tokens use the accumulated Hessians (one factorisation per shared input). Routed experts get their
 * Hessians built from the stored block input and routing as their {@link ExpertPlan} says (routed, weighted, all,
 * hybrid, or the min-token fallback):
 * <ul>
 *   <li>on the CPU one expert at a time (built, solved, released: memory holds one expert's Hessians);</li>
 *   <li>on a device with {@link SolverOps}, for integer grids, in chunks of experts whose Hessians are built and
 *       solved in place by {@link DeviceGptq} (the Hessians never cross PCIe).</li>
 * </ul>
 * Each quantized weight goes to {@code sink} (the checkpoint writer) and back into the model, dequantized, so the
 * sequential re-run of the layer sees it. An expert's down-projection inputs are computed with its original gate/up
 * before they are replaced.
 */
final class LayerQuantizer {
    /** Experts solved together on a device (their Hessians, factors and weights are alive at once). */
    static final int DEVICE_CHUNK = 32;

    private final MoeModel model;
    private final Backend backend;
    private final int layer;
    private final QuantScheme scheme;
    private final QuantizeOptions o;
    private final List<Object[]> report;
    private final List<LinearModules.Module> active = new ArrayList<>();
    private Map<String, QuantScheme> moduleSchemes = Map.of(); // modules at another width than `scheme` (bit allocation)
    private LayerSmoothing smoothing;                           // AWQ's folded scales, or null
    final FallbackCounts fallbacks = new FallbackCounts();
    final List<String> warnings = new ArrayList<>();
    /** --devices: what this owner device solves and the Hessians reduced for it (DataParallelLayers); null: all, built here. */
    OwnerShard shard;

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

    /**
     * How one expert is calibrated: its routed rows (token indices into the layer's block input) and routing weights,
     * which Hessian parts it gets, and why.
     */
    record ExpertPlan(int expert, List<LinearModules.Module> in, List<LinearModules.Module> down, int[] rows, float[] weights,
                      String hessian, String fallback, boolean useRouted, boolean useAll, double allFactor, boolean weighted) {
        int routed() { return rows.length; }

        boolean gptq() { return useRouted || useAll; }

        /** Σ of the token weights behind its Hessians (its output error divided by this is per calibration token). */
        double mass(int tokens) {
            double m = 0;
            if (useRouted) {
                if (weighted) for (float w : weights) m += w; else m = routed();
            }
            if (useAll) m += (useRouted ? allFactor : 1) * tokens;
            return m;
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

    /** Modules quantized at another scheme than the stage's (module name → scheme): the bit allocation's widths. */
    LayerQuantizer withSchemes(Map<String, QuantScheme> schemes) {
        this.moduleSchemes = Map.copyOf(schemes);
        return this;
    }

    /** AWQ's scales, already folded into the model: the weights quantized are the smoothed ones. */
    void smoothing(LayerSmoothing s) {
        this.smoothing = s;
    }

    /** The scheme {@code module} is quantized with, or null when it stays unquantized (ignored). */
    QuantScheme schemeFor(String module) {
        for (LinearModules.Module m : active) if (m.module().equals(module)) return schemeOf(m);
        return null;
    }

    private QuantScheme schemeOf(LinearModules.Module m) {
        return moduleSchemes.getOrDefault(m.module(), scheme);
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

    private boolean onDevice(QuantScheme s, int cols, int rowsPerProblem, int problems) {
        return o.gptq() && DeviceGptq.supports(backend, s, o.gptqArgs(), cols, rowsPerProblem, problems);
    }

    /** Quantizes every active module of the layer; each result goes to {@code sink} and replaces the model's weight. */
    void quantize(LayerCalibration cal, BiConsumer<String, QuantizedWeight> sink) {
        Map<String, List<LinearModules.Module>> dense = denseGroups();
        Map<Integer, List<LinearModules.Module>> experts = expertModules();
        try (AllTokenHessians all = new AllTokenHessians(cal)) {
            for (var g : dense.entrySet()) if (shard == null || shard.solvesDense(g.getKey())) solveDense(cal, all, g.getValue(), sink);
            List<ExpertPlan> plans = new ArrayList<>();
            for (var e : experts.entrySet()) {
                if (shard == null || shard.solvesExpert(e.getKey())) plans.add(plan(cal, e.getKey(), e.getValue(), o.gptq()));
            }
            int hidden = model.config().hiddenSize(), inter = model.config().expertIntermediateSize();
            // device chunks hold experts of one scheme (bit allocation may give experts different widths)
            Map<QuantScheme, List<ExpertPlan>> device = new LinkedHashMap<>();
            for (ExpertPlan p : plans) {
                QuantScheme s = schemeOf(p.in().isEmpty() ? p.down().get(0) : p.in().get(0));
                if (p.gptq() && onDevice(s, hidden, 2 * inter, DEVICE_CHUNK) && onDevice(s, inter, hidden, DEVICE_CHUNK)) {
                    device.computeIfAbsent(s, k -> new ArrayList<>()).add(p);
                } else {
                    solveExpertOnHost(cal, all, p, sink);
                }
            }
            for (Map.Entry<QuantScheme, List<ExpertPlan>> e : device.entrySet()) {
                List<ExpertPlan> d = e.getValue();
                for (int i = 0; i < d.size(); i += DEVICE_CHUNK) {
                    solveExpertsOnDevice(cal, all, d.subList(i, Math.min(d.size(), i + DEVICE_CHUNK)), (IntScheme) e.getKey(), sink);
                }
            }
        }
    }

    /** The active modules outside the routed experts, by the Hessian they are solved with (the router: its own). */
    Map<String, List<LinearModules.Module>> denseGroups() {
        Map<String, List<LinearModules.Module>> dense = new LinkedHashMap<>();
        for (LinearModules.Module m : active) {
            if (!isExpert(m)) dense.computeIfAbsent(m.role() == LinearModules.Role.ROUTER ? m.module() : m.hessianKey(), k -> new ArrayList<>()).add(m);
        }
        return dense;
    }

    /** The active routed experts' modules, by expert. */
    Map<Integer, List<LinearModules.Module>> expertModules() {
        Map<Integer, List<LinearModules.Module>> experts = new LinkedHashMap<>();
        for (LinearModules.Module m : active) if (isExpert(m)) experts.computeIfAbsent(m.expert(), e -> new ArrayList<>()).add(m);
        return experts;
    }

    /** Every active expert's plan from {@code cal}'s routing (DataParallelLayers: which partial Hessians each device builds). */
    List<ExpertPlan> plans(LayerCalibration cal) {
        List<ExpertPlan> plans = new ArrayList<>();
        for (var e : expertModules().entrySet()) plans.add(plan(cal, e.getKey(), e.getValue(), o.gptq()));
        return plans;
    }

    // ---- modules that see every token --------------------------------------------------------------------------------

    private void solveDense(LayerCalibration cal, AllTokenHessians all, List<LinearModules.Module> group, BiConsumer<String, QuantizedWeight> sink) {
        LinearModules.Module first = group.get(0);
        Tensor h = null;
        long rows = 0;
        if (o.gptq()) {
            if (first.role() == LinearModules.Role.ROUTER) {
                h = all.blockInputTensor();
                rows = cal.tokens();
            } else if (cal.hessians.containsKey(first.hessianKey())) {
                h = cal.hessians.get(first.hessianKey());
                rows = cal.hessianRows.get(first.hessianKey());
            }
        }
        String hessian = h == null ? "none" : "plain", fallback = h == null && o.gptq() ? "rtn" : "none";
        Map<String, float[]> weights = hostWeights(group);
        int cols = h == null ? 0 : h.cols();
        int groupRows = weights.values().stream().mapToInt(w -> w.length / Math.max(1, cols)).sum();
        if (h != null && onDevice(schemeOf(first), cols, groupRows, 1)) {
            DeviceGptq.Problem p = problem(first.hessianKey(), group, weights, cols);
            List<GptqResult> r = DeviceGptq.solve(backend, h, List.of(p), (IntScheme) schemeOf(first), o.gptqArgs()).get(0);
            double[] diag = toDouble(((SolverOps) backend).diagonals(h));
            for (int i = 0; i < group.size(); i++) emit(group.get(i), weights.get(group.get(i).module()), r.get(i), diag, hessian, rows, rows, fallback, sink);
            return;
        }
        double[] hh = h == null ? null : backend.downloadDoubles(h);
        solveGroup(group, weights, hh, null, hessian, rows, rows, fallback, sink);
    }

    // ---- experts -----------------------------------------------------------------------------------------------------

    /** The expert's routed rows and weights, and which Hessian parts its mode and the min-token policy give it. */
    private ExpertPlan plan(LayerCalibration cal, int expert, List<LinearModules.Module> modules, boolean withHessians) {
        List<LinearModules.Module> in = modules.stream().filter(m -> m.role() == LinearModules.Role.EXPERT_IN).toList();
        List<LinearModules.Module> down = modules.stream().filter(m -> m.role() == LinearModules.Role.EXPERT_DOWN).toList();
        int k = cal.topK, n = 0;
        if (cal.ids != null) for (int id : cal.ids) if (id == expert) n++;
        int[] rows = new int[n];
        float[] w = new float[n];
        if (cal.ids != null) {
            for (int i = 0, j = 0; i < cal.ids.length; i++) {
                if (cal.ids[i] != expert) continue;
                rows[j] = i / k;
                w[j++] = cal.weights[i];
            }
        }
        MoeMode mode = o.moeMode();
        double f = o.hybridLambda() * n / (double) Math.max(1, cal.tokens()); // hybrid: λ·(n_r/n_all)
        boolean weighted = mode == MoeMode.WEIGHTED;
        if (!withHessians) return new ExpertPlan(expert, in, down, rows, w, "none", "none", false, false, 0, false);
        if (mode == MoeMode.ALL) return new ExpertPlan(expert, in, down, rows, w, "all", "none", false, true, 1, false);
        if (n < o.minTokens() || n == 0) {
            if (o.fallbackToAll()) {
                fallbacks.minTokenAll++;
                return new ExpertPlan(expert, in, down, rows, w, "all", "all", false, true, 1, false);
            }
            fallbacks.minTokenRtn++;
            return new ExpertPlan(expert, in, down, rows, w, "none", "rtn", false, false, 0, false);
        }
        return new ExpertPlan(expert, in, down, rows, w, mode.id(), "none", true, mode == MoeMode.HYBRID, f, weighted);
    }

    private void solveExpertOnHost(LayerCalibration cal, AllTokenHessians all, ExpertPlan p, BiConsumer<String, QuantizedWeight> sink) {
        int tokens = cal.tokens();
        if (!p.gptq()) {
            solveGroup(p.in(), hostWeights(p.in()), null, null, p.hessian(), p.routed(), tokens, p.fallback(), sink);
            solveGroup(p.down(), hostWeights(p.down()), null, null, p.hessian(), p.routed(), tokens, p.fallback(), sink);
            return;
        }
        ExpertHessians h = expertHessians(cal, all, p);
        solveGroup(p.in(), hostWeights(p.in()), h.in(), h.sharedIn(), p.hessian(), p.routed(), tokens, p.fallback(), sink);
        solveGroup(p.down(), hostWeights(p.down()), h.down(), null, p.hessian(), p.routed(), tokens, p.fallback(), sink);
    }

    /**
     * An expert's gate/up ([H, H]) and down ([I, I]) Hessians as its plan says; {@code sharedIn} is the all-token
     * block-input Hessian factorised once per layer when the expert uses it alone.
     */
    private record ExpertHessians(double[] in, double[] down, PreparedHessian sharedIn) {}

    private ExpertHessians expertHessians(LayerCalibration cal, AllTokenHessians all, ExpertPlan p) {
        double[] hIn = null, hDown = null;
        PreparedHessian sharedIn = null;
        int hidden = model.config().hiddenSize(), inter = model.config().expertIntermediateSize();
        if (p.useRouted() && shard != null) {
            hIn = shard.routedIn(p.expert());
            hDown = shard.routedDown(p.expert());
        } else if (p.useRouted()) {
            int n = p.routed();
            float[] inW = inputHessianWeights(p.weights(), p.weighted());
            try (Tensor idx = backend.uploadInts(p.rows(), 1, n, "expert rows");
                 Tensor wt = p.weighted() ? backend.upload(p.weights(), 1, n, TensorType.F32, "expert weights") : null;
                 Tensor wIn = inW == null ? null : backend.upload(inW, 1, n, TensorType.F32, "expert input row weights");
                 Tensor hR = backend.allocate(backend.hessianType(), hidden, hidden, "H routed");
                 Tensor x = backend.allocate(TensorType.F32, n, hidden, "expert rows");
                 Tensor hD = backend.allocate(backend.hessianType(), inter, inter, "H down routed")) {
                backend.gram(cal.blockInput, idx, wIn, new int[]{0, n}, hR, 1f);
                backend.gatherRows(cal.blockInput, idx, x);
                if (inputScaled()) {
                    try (Tensor s = backend.upload(p.weights(), 1, n, TensorType.F32, "routing weights")) {
                        backend.scaleRows(x, s, null);
                    }
                }
                try (Tensor a = activation(x, p.expert())) {
                    backend.gram(a, null, wt, new int[]{0, n}, hD, 1f);
                }
                hIn = backend.downloadDoubles(hR);
                hDown = backend.downloadDoubles(hD);
            }
        }
        if (p.useAll()) {
            double[] allDown = all.down(p.expert());
            if (hIn == null) {
                sharedIn = all.preparedBlockInput();
                hIn = all.blockInput();
                hDown = allDown;
            } else {
                double[] ai = all.blockInput();
                for (int i = 0; i < hIn.length; i++) hIn[i] += p.allFactor() * ai[i];
                for (int i = 0; i < hDown.length; i++) hDown[i] += p.allFactor() * allDown[i];
            }
        }
        return new ExpertHessians(hIn, hDown, sharedIn);
    }

    // ---- bit allocation: the sensitivity of every candidate width -----------------------------------------------------

    /**
     * Measures every routed expert of the layer at each width for the bit allocation. Its Hessians are built once, as
     * its plan says (the quantize pass builds the same ones; an expert the min-token policy leaves to RTN, or any expert
     * under --algorithm rtn, is measured on its mode's statistics, all-token ones when it has too few tokens), and
     * factorised once; every width is then solved against them (GPTQ, or RTN) and scored by its output error
     * tr(ΔW·H·ΔWᵀ) ({@link ExpertSensitivity}) summed over gate/up/down, divided by the Hessians' token mass.
     */
    List<ExpertAllocation.Measurement> measure(LayerCalibration cal, IntScheme base, List<Integer> widths) {
        Map<Integer, List<LinearModules.Module>> experts = new LinkedHashMap<>();
        for (LinearModules.Module m : active) if (isExpert(m)) experts.computeIfAbsent(m.expert(), e -> new ArrayList<>()).add(m);
        List<ExpertAllocation.Measurement> out = new ArrayList<>();
        boolean gIdx = o.gptq() && o.gptqArgs().actOrder() == org.routecal.quant.gptq.ActOrder.GROUP;
        try (AllTokenHessians all = new AllTokenHessians(cal)) {
            for (Map.Entry<Integer, List<LinearModules.Module>> e : experts.entrySet()) {
                ExpertPlan p = plan(cal, e.getKey(), e.getValue(), true);
                boolean solveGptq = o.gptq() && p.gptq();
                if (!p.gptq()) p = new ExpertPlan(p.expert(), p.in(), p.down(), p.rows(), p.weights(), "all", "rtn", false, true, 1, false);
                ExpertHessians h = expertHessians(cal, all, p);
                double mass = p.mass(cal.tokens());
                Map<String, float[]> wIn = hostWeights(p.in()), wDown = hostWeights(p.down());
                int hidden = cal.blockInput.cols(), inter = model.config().expertIntermediateSize();
                PreparedHessian pIn = !solveGptq || p.in().isEmpty() ? null : h.sharedIn() != null ? h.sharedIn()
                        : GptqSolver.prepare(p.in().get(0).hessianKey(), h.in(), hidden, o.gptqArgs());
                PreparedHessian pDown = !solveGptq || p.down().isEmpty() ? null
                        : GptqSolver.prepare(p.down().get(0).hessianKey(), h.down(), inter, o.gptqArgs());
                long params = 0;
                List<int[]> shapes = new ArrayList<>();
                for (float[] w : wIn.values()) shapes.add(new int[]{w.length / hidden, hidden});
                for (float[] w : wDown.values()) shapes.add(new int[]{w.length / inter, inter});
                for (int[] sh : shapes) params += (long) sh[0] * sh[1];
                List<BitAllocation.Candidate> candidates = new ArrayList<>();
                for (int bits : widths) {
                    IntScheme s = new IntScheme(bits, base.symmetric(), base.groupSize(), base.scaleDtype());
                    double err = 0;
                    for (Map.Entry<String, float[]> w : wIn.entrySet()) err += ExpertAllocation.outputError(w.getKey(), s, w.getValue(), hidden, h.in(), pIn, o.gptqArgs());
                    for (Map.Entry<String, float[]> w : wDown.entrySet()) err += ExpertAllocation.outputError(w.getKey(), s, w.getValue(), inter, h.down(), pDown, o.gptqArgs());
                    candidates.add(new BitAllocation.Candidate(bits, BitAllocation.costBytes(s, shapes, gIdx), mass > 0 ? err / mass : 0));
                }
                out.add(new ExpertAllocation.Measurement(layer, e.getKey(), p.routed(), params, candidates));
            }
        }
        return out;
    }

    /**
     * A chunk of experts on the device: their gate/up Hessians in one batched accumulation over the block input, their
     * down Hessians over their activations (with the ORIGINAL gate/up), then both batches solved in place.
     */
    private void solveExpertsOnDevice(LayerCalibration cal, AllTokenHessians all, List<ExpertPlan> chunk, IntScheme scheme,
                                      BiConsumer<String, QuantizedWeight> sink) {
        int c = chunk.size(), tokens = cal.tokens();
        int hidden = model.config().hiddenSize(), inter = model.config().expertIntermediateSize();
        ModelWeights.Experts ew = experts();
        // the routed rows of every expert of the chunk, concatenated (zero rows for experts on all-token statistics)
        int[] offsets = new int[c + 1];
        for (int i = 0; i < c; i++) offsets[i + 1] = offsets[i] + (chunk.get(i).useRouted() ? chunk.get(i).routed() : 0);
        int total = offsets[c];
        int[] rows = new int[Math.max(1, total)];
        float[] wts = new float[Math.max(1, total)];
        for (int i = 0; i < c; i++) {
            if (!chunk.get(i).useRouted()) continue;
            System.arraycopy(chunk.get(i).rows(), 0, rows, offsets[i], chunk.get(i).routed());
            System.arraycopy(chunk.get(i).weights(), 0, wts, offsets[i], chunk.get(i).routed());
        }
        boolean weighted = chunk.stream().anyMatch(ExpertPlan::weighted);
        float[] inW = inputHessianWeights(wts, weighted);
        List<DeviceGptq.Problem> gu = new ArrayList<>(), dn = new ArrayList<>();
        List<Map<String, float[]>> guW = new ArrayList<>(), dnW = new ArrayList<>();
        List<List<GptqResult>> guR, dnR;
        double[] guDiag, dnDiag;
        try (Tensor hGu = backend.allocate(TensorType.F32, (long) c * hidden, hidden, "H gate/up batch");
             Tensor hDn = backend.allocate(TensorType.F32, (long) c * inter, inter, "H down batch")) {
            if (shard != null) {
                shard.writeRouted(chunk, hGu, hDn);
            } else if (total > 0) {
                // the grouped product indexes experts first..last of the layer's stack (consecutive views); experts of
                // that range that are not in this chunk get no rows
                int first = chunk.get(0).expert(), last = chunk.get(c - 1).expert(), span = last - first + 1;
                int[] rangeOffsets = new int[span + 1];
                for (int i = 0, e = first; e <= last; e++) {
                    while (i < c && chunk.get(i).expert() < e) i++;
                    rangeOffsets[e - first + 1] = i < c && chunk.get(i).expert() == e ? offsets[i + 1] : rangeOffsets[e - first];
                }
                ModelWeights.Experts range = ew.range(first, last + 1);
                try (Tensor idx = backend.uploadInts(rows, 1, rows.length, "chunk rows");
                     Tensor wt = weighted ? backend.upload(wts, 1, wts.length, TensorType.F32, "chunk weights") : null;
                     Tensor wIn = inW == null ? null : backend.upload(inW, 1, inW.length, TensorType.F32, "chunk input row weights");
                     Tensor off = backend.uploadInts(rangeOffsets, 1, span + 1, "chunk offsets");
                     Tensor slotPos = backend.allocate(TensorType.I32, 1, rows.length, "unused");
                     Tensor g = backend.allocate(TensorType.F32, total, 2 * inter, "chunk gate_up");
                     Tensor a = backend.allocate(TensorType.F32, total, inter, "chunk act")) {
                    backend.gram(cal.blockInput, idx, wIn, offsets, hGu, 1f);
                    var groups = new org.routecal.compute.ExpertGroups(span, total, off, idx, slotPos);
                    if (inputScaled()) {
                        try (Tensor xs = backend.allocate(TensorType.F32, total, hidden, "chunk expert inputs");
                             Tensor s = backend.upload(wts, 1, total, TensorType.F32, "chunk routing weights")) {
                            backend.gatherRows(cal.blockInput, idx, xs);
                            backend.scaleRows(xs, s, null);
                            range.gateUp(backend, xs, false, groups, g);
                        }
                    } else {
                        range.gateUp(backend, cal.blockInput, true, groups, g);
                    }
                    range.activate(backend, g, a);
                    backend.gram(a, null, wt, offsets, hDn, 1f);
                }
            }
            for (int i = 0; i < c; i++) {
                ExpertPlan p = chunk.get(i);
                if (!p.useAll()) continue;
                Tensor guSlot = hGu.rows((long) i * hidden, (long) (i + 1) * hidden), dnSlot = hDn.rows((long) i * inter, (long) (i + 1) * inter);
                if (p.useRouted()) backend.axpy((float) p.allFactor(), all.blockInputTensor(), guSlot);
                else backend.copyRows(all.blockInputTensor(), 0, guSlot, 0, hidden);
                if (shard != null) {
                    shard.addAllDown(p.expert(), p.useRouted() ? (float) p.allFactor() : 1f, dnSlot);
                    continue;
                }
                try (Tensor a = activation(cal.blockInput, p.expert())) {
                    backend.gram(a, null, null, new int[]{0, tokens}, dnSlot, p.useRouted() ? (float) p.allFactor() : 1f);
                }
            }
            for (ExpertPlan p : chunk) {
                Map<String, float[]> wi = hostWeights(p.in()), wd = hostWeights(p.down());
                guW.add(wi);
                dnW.add(wd);
                gu.add(problem(p.in().get(0).hessianKey(), p.in(), wi, hidden));
                dn.add(problem(p.down().get(0).hessianKey(), p.down(), wd, inter));
            }
            SolverOps ops = (SolverOps) backend;
            guDiag = toDouble(ops.diagonals(hGu));
            dnDiag = toDouble(ops.diagonals(hDn));
            guR = DeviceGptq.solve(backend, hGu, gu, scheme, o.gptqArgs());
            dnR = DeviceGptq.solve(backend, hDn, dn, scheme, o.gptqArgs());
        }
        for (int i = 0; i < c; i++) {
            ExpertPlan p = chunk.get(i);
            double[] dg = java.util.Arrays.copyOfRange(guDiag, i * hidden, (i + 1) * hidden);
            double[] dd = java.util.Arrays.copyOfRange(dnDiag, i * inter, (i + 1) * inter);
            for (int m = 0; m < p.in().size(); m++) {
                LinearModules.Module mod = p.in().get(m);
                emit(mod, guW.get(i).get(mod.module()), guR.get(i).get(m), dg, p.hessian(), p.routed(), tokens, p.fallback(), sink);
            }
            for (int m = 0; m < p.down().size(); m++) {
                LinearModules.Module mod = p.down().get(m);
                emit(mod, dnW.get(i).get(mod.module()), dnR.get(i).get(m), dd, p.hessian(), p.routed(), tokens, p.fallback(), sink);
            }
        }
    }

    ModelWeights.Experts experts() {
        return model.weights().experts(model.family().tensors(), layer, model.config().expertCount(),
                model.config().expertIntermediateSize(), model.config().hiddenSize());
    }

    /** The down projection's input for x [n, H] through expert {@code expert}'s gate/up (biases and activation as the forward). */
    private Tensor activation(Tensor x, int expert) {
        return experts().activation(backend, expert, x);
    }

    /**
     * Llama 4 scales a routed row's expert input by its routing weight w (RouterRule.WeightTarget.EXPERT_INPUT): the
     * gate/up Hessian of its routed rows is Σ c·(w·x)(w·x)ᵀ, so its row weights are c·w² (c = w in weighted mode, else
     * 1), and the down projection's inputs come from the scaled rows. All-token statistics keep the unscaled rows
     * ("as if routed with weight 1"). Elsewhere the row weights are the mode's (w when weighted, else none).
     */
    boolean inputScaled() {
        return model.family().routerRule(model.config()).weightTarget() == org.routecal.compute.RouterRule.WeightTarget.EXPERT_INPUT;
    }

    float[] inputHessianWeights(float[] w, boolean weighted) {
        if (!inputScaled()) return weighted ? w : null;
        float[] c = new float[w.length];
        for (int i = 0; i < w.length; i++) c[i] = w[i] * w[i] * (weighted ? w[i] : 1f);
        return c;
    }

    /**
     * The all-token Hessians of one layer, built on first use: the block input's (every expert's gate/up in all mode,
     * the router), factorised once on the host path; and per expert the down projection's over all tokens.
     */
    private final class AllTokenHessians implements AutoCloseable {
        private final LayerCalibration cal;
        private Tensor blockInput;
        private double[] host;
        private PreparedHessian prepared;

        AllTokenHessians(LayerCalibration cal) { this.cal = cal; }

        Tensor blockInputTensor() {
            if (shard != null) return shard.blockInputHessian();
            if (blockInput == null && cal.blockInput != null) {
                int cols = cal.blockInput.cols();
                blockInput = backend.allocate(backend.hessianType(), cols, cols, "H block input");
                backend.gram(cal.blockInput, null, null, new int[]{0, cal.tokens()}, blockInput, 1f);
            }
            return blockInput;
        }

        double[] blockInput() {
            if (host == null && blockInputTensor() != null) host = backend.downloadDoubles(blockInputTensor());
            return host == null ? null : host.clone();
        }

        PreparedHessian preparedBlockInput() {
            if (prepared == null) prepared = GptqSolver.prepare("layer " + layer + " block input", blockInput(), model.config().hiddenSize(), o.gptqArgs());
            return prepared;
        }

        double[] down(int expert) {
            if (shard != null) return shard.allDown(expert);
            int inter = model.config().expertIntermediateSize();
            try (Tensor a = activation(cal.blockInput, expert);
                 Tensor h = backend.allocate(backend.hessianType(), inter, inter, "H down all")) {
                backend.gram(a, null, null, new int[]{0, cal.tokens()}, h, 1f);
                return backend.downloadDoubles(h);
            }
        }

        @Override
        public void close() {
            if (blockInput != null) blockInput.close();
            blockInput = null;
            host = null;
            prepared = null;
        }
    }

    // ---- one group of modules sharing an input ------------------------------------------------------------------------

    /** Host weights of a group's modules, in order: the source's, AWQ-smoothed when the layer was. */
    private Map<String, float[]> hostWeights(List<LinearModules.Module> group) {
        Map<String, float[]> weights = new LinkedHashMap<>();
        for (LinearModules.Module m : group) {
            String name = m.module() + ".weight";
            long[] s = model.weights().shape(name);
            // smoothed from the source's values: the model's own copy may be the folded one already
            float[] w = smoothing != null && smoothing.touches(m.module())
                    ? smoothing.weight(m.module(), model.weights().source().readFloat(name), (int) s[0], (int) s[1])
                    : model.weights().hostValues(name, (int) s[0], (int) s[1]);
            weights.put(m.module(), w);
        }
        return weights;
    }

    private static DeviceGptq.Problem problem(String key, List<LinearModules.Module> group, Map<String, float[]> weights, int cols) {
        List<String> names = new ArrayList<>();
        List<float[]> ws = new ArrayList<>();
        int[] rows = new int[group.size()];
        for (int i = 0; i < group.size(); i++) {
            names.add(group.get(i).module());
            ws.add(weights.get(group.get(i).module()));
            rows[i] = ws.get(i).length / cols;
        }
        return new DeviceGptq.Problem(key, names, ws, rows, cols);
    }

    /** Quantizes modules that share one Hessian on the host (null: RTN); reports each. */
    private void solveGroup(List<LinearModules.Module> group, Map<String, float[]> weights, double[] h, PreparedHessian shared,
                            String hessian, long routed, long all, String fallback, BiConsumer<String, QuantizedWeight> sink) {
        if (group.isEmpty()) return;
        QuantScheme scheme = schemeOf(group.get(0));
        float gs = nvfp4GlobalScale(scheme, weights);
        int cols = (int) model.weights().shape(group.get(0).module() + ".weight")[1];
        PreparedHessian p = shared;
        if (h != null && p == null) p = GptqSolver.prepare(group.get(0).hessianKey(), h, cols, o.gptqArgs());
        double[] diag = null;
        if (h != null) {
            diag = new double[cols];
            for (int c = 0; c < cols; c++) diag[c] = h[c * cols + c];
        }
        for (LinearModules.Module m : group) {
            long t0 = System.nanoTime();
            float[] w = weights.get(m.module());
            int rows = w.length / cols;
            GptqResult r = p == null ? new GptqResult(0, Rtn.quantize(scheme, w, rows, cols, gs), false, 0, null)
                    : GptqSolver.solve(m.module(), scheme, w, rows, cols, p, o.gptqArgs(), gs);
            emit(m, w, p == null ? null : r, diag, hessian, routed, all, fallback, sink, r.weight(), (System.nanoTime() - t0) / 1e9);
        }
    }

    private void emit(LinearModules.Module m, float[] w, GptqResult r, double[] diag, String hessian, long routed, long all, String fallback,
                      BiConsumer<String, QuantizedWeight> sink) {
        emit(m, w, r, diag, hessian, routed, all, fallback, sink, r.weight(), 0);
    }

    /** Reports one module, hands its quantized weight to the sink and puts it, dequantized, into the model. */
    private void emit(LinearModules.Module m, float[] w, GptqResult r, double[] diag, String hessian, long routed, long all, String fallback,
                      BiConsumer<String, QuantizedWeight> sink, QuantizedWeight q, double seconds) {
        Double loss = null;
        int dead = 0;
        String fb = fallback;
        if (r != null) {
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
                relativeError(w, deq, diag, q.rows(), q.cols()), seconds));
        sink.accept(m.module(), q);
        model.overrideWeight(m.module() + ".weight", deq);
    }

    /** NVFP4: fused projections (q/k/v, an expert's gate/up) share the smallest global-scale divisor; NaN otherwise. */
    private static float nvfp4GlobalScale(QuantScheme scheme, Map<String, float[]> weights) {
        if (!(scheme instanceof Nvfp4Scheme)) return Float.NaN;
        float gs = Float.POSITIVE_INFINITY;
        for (float[] w : weights.values()) gs = Math.min(gs, Nvfp4Scheme.globalScale(Nvfp4Scheme.amax(w)));
        return gs;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** Σ ΔW²·H_jj / Σ W²·H_jj (diagonal-weighted output error), or plain relative Frobenius without a Hessian. */
    static double relativeError(float[] w, float[] q, double[] diag, int rows, int cols) {
        double num = 0, den = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double d = diag == null ? 1 : diag[c];
                double x = w[r * cols + c], e = x - q[r * cols + c];
                num += e * e * d;
                den += x * x * d;
            }
        }
        return den == 0 ? 0 : num / den;
    }
}
