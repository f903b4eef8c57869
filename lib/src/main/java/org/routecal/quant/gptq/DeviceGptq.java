package org.routecal.quant.gptq;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.routecal.compute.Backend;
import org.routecal.compute.SolverOps;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.QuantParams;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

/**
 * GPTQ for integer schemes on a device, batched over matrices whose Hessians are already there (every expert of a
 * layer chunk): the same steps as {@link GptqSolver} — scales observed beforehand, act-order by the Hessian diagonal,
 * dead columns zeroed, relative damping, upper Cholesky factor of H⁻¹, column sweep, Cholesky failure → RTN — with the
 * factorisation and the sweep in {@link SolverOps} kernels. Only diagonals, scales, weights and results cross PCIe;
 * the Hessians never do. Codes differ from the host solver only where fp32 summation order moves a value across a
 * rounding boundary (GpuParity and the quantize comparison measure how often).
 */
public final class DeviceGptq {
    private DeviceGptq() {}

    /** Modules sharing one Hessian (an expert's gate and up, or one down projection): weights [rows_i, cols], original. */
    public record Problem(String key, List<String> modules, List<float[]> weights, int[] rows, int cols) {
        int totalRows() { return Arrays.stream(rows).sum(); }
    }

    /** Whether this backend and grid can be solved on the device (int grids, K a multiple of 32 and ≤ 4096, blocks ≤ 128). */
    public static boolean supports(Backend b, Object scheme, GptqArgs args, int cols, int rowsPerProblem, int problems) {
        return b instanceof SolverOps && scheme instanceof IntScheme && cols % 32 == 0 && cols <= 4096 && args.blockSize() <= 128
                && (problems == 1 || rowsPerProblem % 32 == 0);
    }

    /**
     * Solves problems whose Hessians are h [problems·K, K] (F32 on the device); every problem has the same cols and
     * total rows. Returns, per problem, one result per module in order.
     */
    public static List<List<GptqResult>> solve(Backend b, Tensor h, List<Problem> problems, IntScheme scheme, GptqArgs args) {
        SolverOps ops = (SolverOps) b;
        int batches = problems.size(), k = problems.get(0).cols(), rows = problems.get(0).totalRows(), gs = scheme.groupSize(k);
        int groups = k / gs;
        boolean group = args.actOrder() == ActOrder.GROUP;
        float[] diag = ops.diagonals(h);
        int[][] perm = new int[batches][];
        boolean[][] dead = new boolean[batches][];
        int[] hRows = new int[batches * k], permIdx = new int[batches * k], wIdx = new int[batches * k], step = new int[batches * k];
        for (int p = 0; p < batches; p++) {
            perm[p] = order(diag, p * k, k, args.actOrder());
            dead[p] = new boolean[k];
            for (int j = 0; j < k; j++) {
                int c = perm[p][j];
                dead[p][j] = diag[p * k + c] == 0f;
                hRows[p * k + j] = p * k + c;
                permIdx[p * k + j] = c;
                wIdx[p * k + j] = dead[p][j] ? -1 : c;         // dead columns enter the sweep as zeros
                step[p * k + j] = group ? j / gs : c / gs;    // the scale group of the column processed j-th
            }
        }
        // weights in processing order and their scales: observed on the original layout, or on the permuted one (group)
        float[] w = new float[batches * rows * k], scales = new float[batches * rows * groups];
        float[] zeros = scheme.symmetric() ? null : new float[scales.length];
        List<List<QuantParams>> params = new ArrayList<>();
        for (int p = 0; p < batches; p++) {
            Problem pr = problems.get(p);
            List<QuantParams> qp = new ArrayList<>();
            int r0 = p * rows;
            for (int m = 0; m < pr.weights().size(); m++) {
                float[] wm = pr.weights().get(m);
                int mr = pr.rows()[m];
                float[] observed = group ? permuted(wm, mr, k, perm[p]) : wm;
                QuantParams q = scheme.observe(observed, mr, k, Float.NaN);
                qp.add(q);
                System.arraycopy(wm, 0, w, r0 * k, mr * k);
                for (int r = 0; r < mr; r++) {
                    for (int g = 0; g < groups; g++) {
                        scales[(r0 + r) * groups + g] = q.effectiveScale(r, g);
                        if (zeros != null) zeros[(r0 + r) * groups + g] = q.zero(r, g);
                    }
                }
                r0 += mr;
            }
            params.add(qp);
        }
        float[] swept, loss;
        int[] status;
        try (Tensor hr = b.uploadInts(hRows, 1, hRows.length, "act-order rows");
             Tensor pi = b.uploadInts(permIdx, batches, k, "act-order columns");
             Tensor wi = b.uploadInts(wIdx, batches, k, "act-order weight columns");
             Tensor st = b.uploadInts(step, batches, k, "column groups");
             Tensor hp = b.allocate(TensorType.F32, h.rows(), k, "H permuted rows");
             Tensor hpp = b.allocate(TensorType.F32, h.rows(), k, "H permuted");
             Tensor u = b.allocate(TensorType.F32, h.rows(), k, "U");
             Tensor w0 = b.upload(w, (long) batches * rows, k, TensorType.F32, "weights");
             Tensor wp = b.allocate(TensorType.F32, (long) batches * rows, k, "weights permuted");
             Tensor sc = b.upload(scales, (long) batches * rows, groups, TensorType.F32, "scales");
             Tensor zp = zeros == null ? null : b.upload(zeros, (long) batches * rows, groups, TensorType.F32, "zero points");
             Tensor ls = b.allocate(TensorType.F32, 1, batches * rows, "loss")) {
            b.gatherRows(h, hr, hp);
            ops.gatherColumns(hp, pi, k, hpp);
            status = ops.choleskyInverseUpper(hpp, (float) args.dampeningFrac(), u);
            ops.gatherColumns(w0, wi, rows, wp);
            ops.gptqSweep(wp, u, batches == 1 ? 0 : rows, sc, zp, st, gs, scheme.qmin(), scheme.qmax(), qRound(scheme.scaleDtype()),
                    args.blockSize(), ls);
            swept = b.download(wp);
            loss = b.download(ls);
        }
        List<List<GptqResult>> out = new ArrayList<>();
        for (int p = 0; p < batches; p++) {
            Problem pr = problems.get(p);
            List<GptqResult> results = new ArrayList<>();
            int deadCount = 0;
            for (boolean d : dead[p]) if (d) deadCount++;
            int r0 = p * rows;
            for (int m = 0; m < pr.modules().size(); m++) {
                int mr = pr.rows()[m];
                QuantParams qp = params.get(p).get(m);
                if (status[p] != 0) {
                    String reason = "Hessian not positive definite at column " + (status[p] - 1) + " (device Cholesky)";
                    results.add(new GptqResult(0, Rtn.quantize(scheme, pr.weights().get(m), mr, k), true, deadCount, reason));
                } else {
                    double l = 0;
                    for (int r = 0; r < mr; r++) l += loss[r0 + r];
                    results.add(new GptqResult(l, codes(scheme, swept, r0, mr, k, perm[p], qp, gs, group), false, deadCount, null));
                }
                r0 += mr;
            }
            out.add(results);
        }
        return out;
    }

    /** Processing order: identity, or columns by descending Hessian diagonal (stable) for act-order. */
    static int[] order(float[] diag, int off, int k, ActOrder actOrder) {
        Integer[] boxed = new Integer[k];
        for (int i = 0; i < k; i++) boxed[i] = i;
        if (actOrder != ActOrder.NONE) Arrays.sort(boxed, (x, y) -> Float.compare(diag[off + y], diag[off + x]));
        int[] p = new int[k];
        for (int i = 0; i < k; i++) p[i] = boxed[i];
        return p;
    }

    private static float[] permuted(float[] w, int rows, int k, int[] perm) {
        float[] out = new float[w.length];
        for (int r = 0; r < rows; r++) for (int j = 0; j < k; j++) out[r * k + j] = w[r * k + perm[j]];
        return out;
    }

    /** Codes in the original column order from the swept (on-grid, processing-order) values. */
    private static QuantizedWeight codes(IntScheme scheme, float[] swept, int r0, int rows, int k, int[] perm, QuantParams qp, int gs,
                                         boolean group) {
        int[] codes = new int[rows * k];
        int[] gIdx = group ? new int[k] : null;
        for (int j = 0; j < k; j++) if (group) gIdx[perm[j]] = j / gs;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < k; j++) {
                int c = perm[j], g = group ? j / gs : c / gs;
                codes[r * k + c] = scheme.encode(swept[(r0 + r) * k + j], qp.effectiveScale(r, g), qp.zero(r, g));
            }
        }
        return new QuantizedWeight(scheme, rows, k, codes, qp, gs, group && qp.groups() > 1 ? gIdx : null);
    }

    private static int qRound(ScaleDType d) {
        return switch (d) {
            case F32 -> 0;
            case BF16 -> 1;
            case F16 -> 2;
        };
    }
}
