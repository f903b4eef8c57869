package org.routecal.route;

import org.routecal.model.ForwardTaps;
import org.routecal.model.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.model.family.MoeFamily;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

import java.util.HashMap;
import java.util.Map;

/**
 * Hessian-aware sensitivity: the relative output error of RTN W4 g128 (quant/'s own RTN) on each expert projection, measured on the
 * expert's own routed inputs as they stream by: {@code Σ‖(Ŵ − W)x‖² / Σ‖Wx‖²} over the rows the expert received.
 * That is {@code tr(ΔW H ΔWᵀ) / tr(W H Wᵀ)} with H = Σ x xᵀ, without ever forming H (hidden² per expert would be 4 GB
 * per layer at Qwen3-30B-A3B size): the cost is two extra matmuls per routed row, the same order as the expert's
 * forward. ΔW is cached per projection up to {@code cacheBytes} and recomputed after that.
 */
final class ExpertErrorTap implements ForwardTaps {
    static final String[] PROJ = {"gate_proj", "up_proj", "down_proj"};

    private final MoeModel model;
    private final RoutingGeometry geometry;
    private final Map<String, Integer> moduleIndex = new HashMap<>(); // module → slot·3 + projection
    private final double[] err, ref;   // [slots · 3]
    private final long[] rows;         // [slots · 3]
    private final Map<Integer, float[]> deltaCache = new HashMap<>();
    private final long cacheBytes;
    private long cachedBytes;

    ExpertErrorTap(MoeModel model, RoutingGeometry geometry, long cacheBytes) {
        this.model = model;
        this.geometry = geometry;
        this.cacheBytes = cacheBytes;
        MoeFamily.Tensors names = model.family().tensors();
        String[] templates = {names.expertGate(), names.expertUp(), names.expertDown()};
        for (int l = 0; l < geometry.layers(); l++) {
            for (int e = 0; e < geometry.experts(); e++) {
                for (int p = 0; p < 3; p++) {
                    moduleIndex.put(MoeFamily.name(templates[p], geometry.layerIndex()[l], e), geometry.slot(l, e) * 3 + p);
                }
            }
        }
        err = new double[geometry.slots() * 3];
        ref = new double[err.length];
        rows = new long[err.length];
    }

    @Override
    public void linearInput(String module, int n, int in, float[] x, int[] tokenIndex, float[] rowWeight, boolean allTokens) {
        Integer idx = moduleIndex.get(module);
        if (idx == null || n == 0) return;
        ModelConfig c = model.config();
        int out = idx % 3 == 2 ? c.hiddenSize() : c.expertIntermediateSize();
        float[] w = model.weights().tensor(module + ".weight", out, in);
        float[] delta = deltaCache.get(idx);
        if (delta == null) {
            delta = rtnError(w, out, in);
            if (cachedBytes + 4L * delta.length <= cacheBytes) {
                deltaCache.put(idx, delta);
                cachedBytes += 4L * delta.length;
            }
        }
        float[] y = new float[n * out]; // [n, out]
        model.ops().matmulTransposed(x, n, in, delta, out, null, y);
        err[idx] += sumSquares(y);
        model.ops().matmulTransposed(x, n, in, w, out, null, y);
        ref[idx] += sumSquares(y);
        rows[idx] += n;
    }

    /**
     * Ŵ − W for RTN W4 symmetric with our quantizer ({@link Rtn}, compressed-tensors grid: scale = absmax / 7.5, scales
     * rounded to bf16) in groups of 128 input columns; per output channel when the width is not a multiple of 128.
     */
    static float[] rtnError(float[] w, int rows, int cols) {
        int group = cols % ReferenceSensitivity.GROUP == 0 ? ReferenceSensitivity.GROUP : 0;
        float[] q = Rtn.quantize(new IntScheme(4, true, group, ScaleDType.BF16), w, rows, cols).dequantize();
        for (int i = 0; i < q.length; i++) q[i] -= w[i];
        return q;
    }

    /** Relative RTN output error of one projection (0 gate, 1 up, 2 down); NaN if the expert saw no token. */
    double relativeError(int slot, int proj) {
        int i = slot * 3 + proj;
        return rows[i] == 0 || ref[i] == 0 ? Double.NaN : err[i] / ref[i];
    }

    /** The expert's score: the largest relative error over its three projections (NaN if it saw no token). */
    double expertError(int slot) {
        double best = Double.NaN;
        for (int p = 0; p < 3; p++) {
            double v = relativeError(slot, p);
            if (!Double.isNaN(v) && (Double.isNaN(best) || v > best)) best = v;
        }
        return best;
    }

    private static double sumSquares(float[] y) {
        double s = 0;
        for (float v : y) s += (double) v * v;
        return s;
    }
}
