package org.routecal.quant;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.model.MoeModel;
import org.routecal.quant.gptq.GptqResult;
import org.routecal.quant.gptq.GptqSolver;
import org.routecal.quant.gptq.PreparedHessian;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.Rtn;

/**
 * Quantizes the Linear modules of one decoder layer from the Hessians its {@link HessianCollector} gathered:
 * picks each module's Hessian by MoE mode and the min-token policy, factorises each distinct Hessian once (an
 * expert's gate/up share one; in {@code all} mode every expert's gate/up share the layer's), and records one report
 * row per module.
 */
final class LayerQuantizer {
    private final MoeModel model;
    private final int layer;
    private final QuantScheme scheme;
    private final QuantizeOptions o;
    private final List<Object[]> report;
    private final List<LinearModules.Module> active = new ArrayList<>();
    private final HessianCollector collector;
    int fallbacks;
    final List<String> warnings = new ArrayList<>();

    LayerQuantizer(MoeModel model, int layer, QuantScheme scheme, QuantizeOptions o, IgnoreRules rules, List<Object[]> report) {
        this.model = model;
        this.layer = layer;
        this.scheme = scheme;
        this.o = o;
        this.report = report;
        Map<String, LinearModules.Module> keys = new LinkedHashMap<>();
        boolean needBlockAll = false;
        for (LinearModules.Module m : LinearModules.ofLayer(model.config(), layer)) {
            if (rules.ignores(m.module())) continue;
            active.add(m);
            if (!o.gptq()) continue;
            if (m.role() == LinearModules.Role.ROUTER) needBlockAll = true;
            else if (m.hessianKey().equals(m.module())) keys.put(m.module(), m);
            if (m.role() == LinearModules.Role.EXPERT_IN && HessianCollector.needsAllTokens(o.moeMode(), o.fallbackToAll())) needBlockAll = true;
        }
        this.collector = new HessianCollector(layer, keys, o.moeMode(), o.fallbackToAll(), needBlockAll);
    }

    HessianCollector collector() {
        return collector;
    }

    /** The Hessian chosen for one key, with how it was built. */
    private record Choice(double[] h, String hessian, long routed, long all, String fallback) {}

    /** Quantizes every active module; returns module → quantized weight in forward order. */
    Map<String, QuantizedWeight> quantize() {
        Map<String, QuantizedWeight> out = new LinkedHashMap<>();
        Map<String, float[]> weights = new HashMap<>();
        Map<String, int[]> shapes = new HashMap<>();
        for (LinearModules.Module m : active) {
            long[] s = model.weights().source().shape(m.module() + ".weight");
            int rows = (int) s[0], cols = (int) s[1];
            shapes.put(m.module(), new int[]{rows, cols});
            weights.put(m.module(), model.weights().tensor(m.module() + ".weight", rows, cols).clone());
        }
        Map<String, Float> globalScales = nvfp4GlobalScales(weights);
        Map<String, Choice> choices = new HashMap<>();
        Map<Object, PreparedHessian> prepared = new HashMap<>(); // one factorisation per distinct Hessian array
        if (collector.blockAll != null) HessianCollector.finish(collector.blockAll.all, collector.blockAll.cols);
        for (HessianCollector.Acc a : collector.accs.values()) {
            HessianCollector.finish(a.routed, a.cols);
            HessianCollector.finish(a.weighted, a.cols);
            HessianCollector.finish(a.all, a.cols);
        }
        for (LinearModules.Module m : active) {
            long t0 = System.nanoTime();
            int[] shape = shapes.get(m.module());
            float[] w = weights.get(m.module());
            float gs = globalScales.getOrDefault(m.fusedKey(), Float.NaN);
            Choice c = o.gptq() ? choices.computeIfAbsent(m.hessianKey(), k -> choose(m)) : new Choice(null, "none", 0, 0, "none");
            QuantizedWeight q;
            Double loss = null;
            int dead = 0;
            String fallback = c.fallback();
            if (c.h() == null) {
                q = Rtn.quantize(scheme, w, shape[0], shape[1], gs);
                if (o.gptq()) fallbacks++;
            } else {
                PreparedHessian p = prepared.computeIfAbsent(c.h(), h -> GptqSolver.prepare(m.hessianKey(), c.h(), shape[1], o.gptqArgs()));
                GptqResult r = GptqSolver.solve(m.module(), scheme, w, shape[0], shape[1], p, o.gptqArgs(), gs);
                q = r.weight();
                loss = r.loss();
                dead = r.deadColumns();
                if (r.fallback()) {
                    fallback = "cholesky_rtn";
                    fallbacks++;
                    warnings.add(m.module() + ": " + r.fallbackReason() + "; rounded (RTN) instead");
                }
            }
            out.put(m.module(), q);
            report.add(QuantReport.row(m, o.gptq() ? "gptq" : "rtn", c.hessian(), c.routed(), c.all(), fallback, dead, loss,
                    relativeError(w, q.dequantize(), c.h(), shape[0], shape[1]), (System.nanoTime() - t0) / 1e9));
        }
        return out;
    }

    /** The Hessian of a key by role, MoE mode and the min-token policy (null → RTN). */
    private Choice choose(LinearModules.Module m) {
        HessianCollector.Acc blockAll = collector.blockAll;
        if (m.role() == LinearModules.Role.ROUTER) {
            return blockAll == null ? new Choice(null, "none", 0, 0, "rtn") : new Choice(blockAll.all, "plain", blockAll.allRows, blockAll.allRows, "none");
        }
        HessianCollector.Acc a = collector.accs.get(m.hessianKey());
        boolean expert = m.role() == LinearModules.Role.EXPERT_IN || m.role() == LinearModules.Role.EXPERT_DOWN;
        if (!expert) {
            return a == null || a.all == null ? new Choice(null, "none", 0, 0, "rtn") : new Choice(a.all, "plain", a.allRows, a.allRows, "none");
        }
        long routed = a == null ? 0 : a.routedRows;
        long allRows = a == null ? (blockAll == null ? 0 : blockAll.allRows) : a.allRows;
        double[] hAll = m.role() == LinearModules.Role.EXPERT_IN ? (blockAll == null ? null : blockAll.all) : (a == null ? null : a.all);
        if (o.moeMode() == MoeMode.ALL) return new Choice(hAll, "all", routed, allRows, hAll == null ? "rtn" : "none");
        if (routed < o.minTokens()) {
            if (o.fallbackToAll() && hAll != null) return new Choice(hAll, "all", routed, allRows, "all");
            return new Choice(null, "none", routed, allRows, "rtn");
        }
        if (a == null) return new Choice(null, "none", 0, allRows, "rtn"); // never ran (min-tokens 0): still never zeroed
        return switch (o.moeMode()) {
            case ROUTED -> new Choice(a.routed, "routed", routed, allRows, "none");
            case WEIGHTED -> new Choice(a.weighted, "weighted", routed, allRows, "none");
            default -> {
                // hybrid: H_r + λ·(n_r/n_all)·H_all — the all-token part carries λ times the routed token mass
                double[] h = a.routed.clone();
                double f = o.hybridLambda() * routed / (double) Math.max(1, allRows);
                for (int i = 0; i < h.length; i++) h[i] += f * hAll[i];
                yield new Choice(h, "hybrid", routed, allRows, "none");
            }
        };
    }

    /** NVFP4: fused projections (q/k/v, an expert's gate/up) share the smallest global-scale divisor. */
    private Map<String, Float> nvfp4GlobalScales(Map<String, float[]> weights) {
        Map<String, Float> out = new HashMap<>();
        if (!(scheme instanceof Nvfp4Scheme)) return out;
        for (LinearModules.Module m : active) {
            float gs = Nvfp4Scheme.globalScale(Nvfp4Scheme.amax(weights.get(m.module())));
            out.merge(m.fusedKey(), gs, Math::min);
        }
        return out;
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
