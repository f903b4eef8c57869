package org.routecal.quant.awq;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.routecal.RoutecalException;
import org.routecal.compute.cpu.CpuThreads;
import org.routecal.quant.scheme.Fp8Scheme;
import org.routecal.quant.scheme.QuantParams;
import org.routecal.quant.scheme.QuantScheme;

/**
 * AWQ (Lin et al. 2023) as llm-compressor's {@code AWQModifier._compute_best_scale} runs it: per-channel scales
 * s = x̄^α (optionally divided by w̄^(1−α) + 1e-4), clamped at 1e-4 and normalized by √(max·min); each balance weight
 * becomes Q(W·s)/s; the scale whose {@link AwqLoss} is lowest wins (the earliest on ties). Pure math: the caller
 * supplies the activation statistics, the weights and the loss; {@link AwqFold} applies the result.
 *
 * <p>Number formats follow the reference so the chosen scales match it bit for bit (one ulp in one scale moves
 * Q(W·s) enough to change a loss by ~0.5%): x̄^α is rounded to float32; without duo scaling the scales stay float32,
 * with it they are float64 (the weight mean is float64); W·s and Q(·)/s are computed in the scale's precision and
 * rounded to float32. Powers and square roots are correctly rounded (the fixture script does the same; PyTorch's CPU
 * float32 pow and sqrt are off by an ulp at times, CUDA's sqrt is exact).
 *
 * <p>Limitation: an NVFP4 balance is observed with its own global scale during the search; llm-compressor fuses the
 * global scale of q/k/v and of gate/up there too.
 */
public final class AwqSearch {
    private AwqSearch() {}

    /**
     * Grid-searches the scales of one mapping.
     *
     * @param smoothName the layer whose output is smoothed (a norm or a Linear), for errors
     * @param xMean      [cols] mean |x| per channel of the activation the balances read (see {@link ActivationMean})
     * @param balances   the layers that read it (all with cols columns); at least one quantized
     */
    public static AwqResult search(String smoothName, float[] xMean, List<AwqBalance> balances, AwqArgs args, AwqLoss loss) {
        int cols = xMean.length;
        boolean anyQuantized = false;
        for (AwqBalance b : balances) {
            if (b.cols() != cols) {
                throw new RoutecalException("AWQ " + smoothName + ": " + b.module() + " has " + b.cols() + " input columns, the activation has " + cols);
            }
            anyQuantized |= b.quantized();
        }
        if (!anyQuantized) throw new RoutecalException("AWQ " + smoothName + ": none of its balance layers is quantized");
        for (int j = 0; j < cols; j++) {
            if (!Float.isFinite(xMean[j]) || xMean[j] < 0) {
                throw new RoutecalException("AWQ " + smoothName + ": mean |x| of channel " + j + " is " + xMean[j] + " (NaN/Inf in the calibration activations?)");
            }
        }
        List<AwqArgs.GridPoint> grid = args.grid();
        boolean anyDuo = grid.stream().anyMatch(AwqArgs.GridPoint::duo);
        double[] wMean = anyDuo ? weightMean(balances, cols) : null;
        List<AwqResult.Point> curve = new ArrayList<>(grid.size());
        double best = Double.POSITIVE_INFINITY, initial = Double.NaN;
        AwqArgs.GridPoint bestPoint = null;
        double[] bestScales = null;
        for (AwqArgs.GridPoint g : grid) {
            double[] s = scales(xMean, wMean, g.ratio(), g.duo());
            List<float[]> weights = new ArrayList<>(balances.size());
            for (AwqBalance b : balances) weights.add(b.quantized() ? fakeQuantizeScaled(b, s) : b.weight());
            double l = loss.loss(weights);
            if (Double.isNaN(initial)) initial = l;
            curve.add(new AwqResult.Point(g.ratio(), g.duo(), l));
            if (l < best) {
                best = l;
                bestPoint = g;
                bestScales = s;
            }
        }
        if (bestPoint == null) {
            throw new RoutecalException("AWQ " + smoothName + ": no grid point gave a finite loss (NaN in the layer's forward pass?)");
        }
        return new AwqResult(bestScales, bestPoint.ratio(), bestPoint.duo(), initial, best, List.copyOf(curve), null);
    }

    /** The identity result for a mapping that has no activations to search on (an expert no token reached). */
    public static AwqResult skipped(int cols, String reason) {
        double[] ones = new double[cols];
        Arrays.fill(ones, 1.0);
        return new AwqResult(ones, 0, false, Double.NaN, Double.NaN, List.of(), reason);
    }

    /**
     * The scales of one grid point: s_j = max(x̄_j^α / (w̄_j^(1−α) + 1e-4), 1e-4) with duo scaling,
     * max(x̄_j^α, 1e-4) without, then divided by √(max(s)·min(s)); non-finite entries become 1.
     */
    public static double[] scales(float[] xMean, double[] wMean, double ratio, boolean duo) {
        int n = xMean.length;
        double[] s = new double[n];
        if (duo) {
            double max = Double.NEGATIVE_INFINITY, min = Double.POSITIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                float xr = (float) Math.pow(xMean[j], ratio);
                double v = Math.max(xr / (Math.pow(wMean[j], 1 - ratio) + 1e-4), 1e-4);
                s[j] = v;
                max = Math.max(max, v);
                min = Math.min(min, v);
            }
            double norm = Math.sqrt(max * min);
            for (int j = 0; j < n; j++) s[j] = finiteOrOne(s[j] / norm);
        } else {
            float max = Float.NEGATIVE_INFINITY, min = Float.POSITIVE_INFINITY;
            float[] f = new float[n];
            for (int j = 0; j < n; j++) {
                f[j] = Math.max((float) Math.pow(xMean[j], ratio), 1e-4f);
                max = Math.max(max, f[j]);
                min = Math.min(min, f[j]);
            }
            float norm = (float) Math.sqrt(max * min); // correctly rounded (PyTorch's CPU float32 sqrt is not always)
            for (int j = 0; j < n; j++) s[j] = finiteOrOne(f[j] / norm);
        }
        return s;
    }

    private static double finiteOrOne(double v) {
        return Double.isFinite(v) ? v : 1.0;
    }

    /**
     * w̄ [cols]: each quantized balance's |W| normalized by the largest magnitude of its quantization group
     * (+1e-6), averaged over all their rows ({@code _compute_layer_means}); unquantized balances are left out.
     */
    public static double[] weightMean(List<AwqBalance> balances, int cols) {
        double[] sum = new double[cols];
        long count = 0;
        for (AwqBalance b : balances) {
            if (!b.quantized()) continue;
            float[] w = b.weight();
            int rows = b.rows();
            boolean perTensor = b.scheme() instanceof Fp8Scheme fs && fs.perTensor();
            float tensorMax = 0f;
            if (perTensor) for (float v : w) tensorMax = Math.max(tensorMax, Math.abs(v));
            int gs = perTensor ? cols : b.scheme().groupSize(cols);
            for (int r = 0; r < rows; r++) {
                for (int g0 = 0; g0 < cols; g0 += gs) {
                    float amax = tensorMax;
                    if (!perTensor) for (int c = g0; c < g0 + gs; c++) amax = Math.max(amax, Math.abs(w[r * cols + c]));
                    float d = amax + 1e-6f;
                    for (int c = g0; c < g0 + gs; c++) sum[c] += Math.abs(w[r * cols + c]) / d; // float division, as the reference
                }
            }
            count += rows;
        }
        for (int c = 0; c < cols; c++) sum[c] /= count;
        return sum;
    }

    /** Q(W·s)/s of one balance ([rows, cols] float32): observe the grid on W·s, fake-quantize, divide back. */
    static float[] fakeQuantizeScaled(AwqBalance b, double[] s) {
        int rows = b.rows(), cols = b.cols();
        float[] w = b.weight();
        float[] ws = new float[w.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) ws[r * cols + c] = (float) (w[r * cols + c] * s[c]);
        QuantScheme scheme = b.scheme();
        scheme.validate(b.module(), rows, cols);
        QuantParams p = scheme.observe(ws, rows, cols);
        int gs = scheme.groupSize(cols);
        float[] out = new float[w.length];
        CpuThreads.forEach(CpuThreads.sharedPool(), rows, r -> {
            for (int c = 0; c < cols; c++) {
                int g = c / gs;
                float q = scheme.fakeQuantize(ws[r * cols + c], p.effectiveScale(r, g), p.zero(r, g));
                out[r * cols + c] = (float) (q / s[c]);
            }
        });
        return out;
    }
}
