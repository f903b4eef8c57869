package org.routecal.quant.awq;

import java.util.ArrayList;
import java.util.List;
import org.routecal.compute.cpu.CpuThreads;
import org.routecal.compute.cpu.DoubleMatmul;

/**
 * The loss of the post-attention-norm mapping of an MoE layer, whose balances are the router and every expert's
 * gate_proj and up_proj: the error of the MoE block's output y_t = Σ_e c_{t,e}·down_e(silu(gate_e·x_t) ⊙ up_e·x_t)
 * over sample tokens (llm-compressor's parent module is the sparse-MoE block). Routing is held fixed: during the
 * search the router is not fake-quantized and its scaled weight multiplies x/s, so its logits do not change.
 *
 * <p>{@link Combine#BLOCK} is the reference's loss (routed experts combined with their routing weights, then squared).
 * {@link Combine#PER_EXPERT} sums each expert's own squared output error over the tokens a calibration mode gives it
 * (all tokens in {@code all} mode), weighted by that mode's token weights.
 */
public final class MoeBlockLoss implements AwqLoss {
    /** How expert outputs enter the loss. */
    public enum Combine { BLOCK, PER_EXPERT }

    /**
     * One gated MLP of the block (a routed expert, or a shared expert with its gate value as weight).
     *
     * @param gateBalance index of its gate_proj in the balance list
     * @param upBalance   index of its up_proj in the balance list
     * @param down        [hidden, inter] row-major down_proj weight (not a balance of this mapping)
     * @param inter       its intermediate size
     * @param tokens      sample tokens it is evaluated on
     * @param combine     [tokens.length] weight of each: the routing weight (BLOCK) or the calibration mode's token
     *                    weight (PER_EXPERT)
     */
    public record Mlp(int gateBalance, int upBalance, float[] down, int inter, int[] tokens, float[] combine) {}

    private final List<AwqBalance> balances;
    private final float[] x; // [n, hidden]
    private final int n, hidden;
    private final List<Mlp> mlps;
    private final Combine combine;
    private final List<List<int[]>> perToken; // BLOCK: token → (mlp, slot) pairs
    private final double[] reference;         // BLOCK: [n, hidden] unquantized outputs; PER_EXPERT: unused
    private final List<double[]> referencePerMlp;
    private final double mass;

    public MoeBlockLoss(List<AwqBalance> balances, float[] x, int n, int hidden, List<Mlp> mlps, Combine combine) {
        if (x.length != (long) n * hidden) throw new IllegalArgumentException("x has " + x.length + " values, expected " + n + "×" + hidden);
        this.balances = List.copyOf(balances);
        this.x = x;
        this.n = n;
        this.hidden = hidden;
        this.mlps = List.copyOf(mlps);
        this.combine = combine;
        List<float[]> original = new ArrayList<>();
        for (AwqBalance b : balances) original.add(b.weight());
        double m = 0;
        if (combine == Combine.BLOCK) {
            perToken = new ArrayList<>(n);
            for (int t = 0; t < n; t++) perToken.add(new ArrayList<>());
            for (int i = 0; i < mlps.size(); i++) {
                int[] tok = mlps.get(i).tokens();
                for (int k = 0; k < tok.length; k++) perToken.get(tok[k]).add(new int[]{i, k});
            }
            reference = blockOutputs(original);
            referencePerMlp = null;
            m = n;
        } else {
            perToken = null;
            reference = null;
            referencePerMlp = List.of(allMlpOutputs(original));
            for (Mlp mlp : mlps) for (float c : mlp.combine()) m += c;
        }
        this.mass = m;
    }

    /**
     * The reference's configuration: routed experts only, combined with their routing weights.
     *
     * @param topkIds     [n, k] routed expert of each token and slot
     * @param topkWeights [n, k] its routing weight (after any renormalisation and scaling the family applies)
     * @param gateOf      [experts] balance index of each expert's gate_proj
     * @param upOf        [experts] balance index of each expert's up_proj
     * @param downs       [experts] each expert's down_proj weight, [hidden, inter]
     */
    public static MoeBlockLoss routed(List<AwqBalance> balances, float[] x, int n, int hidden, int[] topkIds,
                                      float[] topkWeights, int k, int[] gateOf, int[] upOf, List<float[]> downs, int inter) {
        int experts = gateOf.length;
        List<List<Integer>> tok = new ArrayList<>();
        List<List<Float>> wt = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            tok.add(new ArrayList<>());
            wt.add(new ArrayList<>());
        }
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < k; j++) {
                int e = topkIds[t * k + j];
                tok.get(e).add(t);
                wt.get(e).add(topkWeights[t * k + j]);
            }
        }
        List<Mlp> mlps = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            if (tok.get(e).isEmpty()) continue;
            int[] ti = tok.get(e).stream().mapToInt(Integer::intValue).toArray();
            float[] w = new float[ti.length];
            for (int i = 0; i < w.length; i++) w[i] = wt.get(e).get(i);
            mlps.add(new Mlp(gateOf[e], upOf[e], downs.get(e), inter, ti, w));
        }
        return new MoeBlockLoss(balances, x, n, hidden, mlps, Combine.BLOCK);
    }

    @Override
    public double loss(List<float[]> weights) {
        if (combine == Combine.BLOCK) {
            double[] out = blockOutputs(weights);
            double s = 0;
            for (int i = 0; i < out.length; i++) {
                double d = out[i] - reference[i];
                s += d * d;
            }
            return s / (mass * hidden);
        }
        double s = 0;
        double[][] perMlp = allMlpOutputs(weights);
        for (int i = 0; i < mlps.size(); i++) {
            Mlp mlp = mlps.get(i);
            double[] out = perMlp[i], ref = referencePerMlp.get(i);
            for (int k = 0; k < mlp.tokens().length; k++) {
                double e2 = 0;
                for (int h = 0; h < hidden; h++) {
                    double d = out[k * hidden + h] - ref[k * hidden + h];
                    e2 += d * d;
                }
                s += mlp.combine()[k] * e2;
            }
        }
        return s / (mass * hidden);
    }

    /** [n, hidden] Σ over each token's MLPs of combine · mlp(x_t). */
    private double[] blockOutputs(List<float[]> weights) {
        double[][] perMlp = allMlpOutputs(weights);
        double[] out = new double[n * hidden];
        for (int t = 0; t < n; t++) {
            int yt = t * hidden;
            for (int[] slot : perToken.get(t)) { // each token's MLPs in the same order as ever
                double c = mlps.get(slot[0]).combine()[slot[1]];
                double[] h = perMlp[slot[0]];
                for (int i = 0; i < hidden; i++) out[yt + i] += c * h[slot[1] * hidden + i];
            }
        }
        return out;
    }

    /** Every MLP's outputs over its tokens ({@link #mlpOutputs}), the MLPs in parallel. */
    private double[][] allMlpOutputs(List<float[]> weights) {
        double[][] out = new double[mlps.size()][];
        CpuThreads.forEach(CpuThreads.sharedPool(), mlps.size(), i -> out[i] = mlpOutputs(mlps.get(i), weights));
        return out;
    }

    /**
     * [tokens, hidden] mlp(x_t) for each of the MLP's tokens (unweighted): X·gateᵀ and X·upᵀ, silu(g)·u, then ·downᵀ,
     * as double products on tiles ({@link DoubleMatmul}; a token at a time in scalar loops was 3·inter·hidden
     * multiply-adds per token and expert at 1–2 GFLOP/s).
     */
    private double[] mlpOutputs(Mlp mlp, List<float[]> weights) {
        int[] tok = mlp.tokens();
        int k = tok.length, inter = mlp.inter();
        double[] xd = new double[k * hidden];
        for (int i = 0; i < k; i++) for (int c = 0; c < hidden; c++) xd[i * hidden + c] = x[tok[i] * hidden + c];
        double[] g = DoubleMatmul.timesTransposed(xd, k, hidden, weights.get(mlp.gateBalance()), inter);
        double[] u = DoubleMatmul.timesTransposed(xd, k, hidden, weights.get(mlp.upBalance()), inter);
        for (int i = 0; i < g.length; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i]; // silu(g)·u
        return DoubleMatmul.timesTransposed(g, k, inter, mlp.down(), hidden);
    }
}
