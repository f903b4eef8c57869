package org.routecal.quant.gptq;

import java.util.ArrayList;
import java.util.List;
import org.routecal.RoutecalException;
import org.routecal.compute.cpu.CpuThreads;
import org.routecal.compute.cpu.GptqSweepKernels;
import org.routecal.quant.scheme.QuantParams;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantizedWeight;

/**
 * GPTQ (Frantar et al. 2022) as llm-compressor's {@code quantize_weight} runs it (research/llmcompressor.md §2.3):
 * scales observed from the original weight, optional act-order, dead columns zeroed, relative damping, upper Cholesky
 * factor of H⁻¹, column sweep in blocks with lazy updates; Cholesky failure falls back to the identity (= RTN) and is
 * flagged. Pure math: no I/O. Weights are processed in float32 like the reference; the factorisation is in double.
 */
public final class GptqSolver {
    private GptqSolver() {}

    /**
     * Quantizes one weight.
     *
     * @param module      HF module name, only for error messages
     * @param w           [rows, cols] row-major (not modified)
     * @param h           [cols, cols] row-major Hessian (any positive scale; not modified)
     * @param globalScale NVFP4 shared global scale divisor, or NaN
     */
    public static GptqResult quantize(String module, QuantScheme scheme, float[] w, int rows, int cols, double[] h,
                                      GptqArgs args, float globalScale) {
        return solve(module, scheme, w, rows, cols, prepare(module, h, cols, args), args, globalScale);
    }

    /** Quantizes several weights of identical shape calibrated on the same Hessian: one factorisation for all. */
    public static List<GptqResult> quantizeShared(String module, QuantScheme scheme, List<float[]> weights, int rows,
                                                  int cols, double[] h, GptqArgs args, float[] globalScales) {
        PreparedHessian p = prepare(module, h, cols, args);
        List<GptqResult> out = new ArrayList<>(weights.size());
        for (int i = 0; i < weights.size(); i++) {
            out.add(solve(module, scheme, weights.get(i), rows, cols, p, args,
                    globalScales == null ? Float.NaN : globalScales[i]));
        }
        return out;
    }

    /** Orders columns, masks dead ones, damps and factorises H. Throws (naming the module) on NaN/Inf. */
    public static PreparedHessian prepare(String module, double[] h, int cols, GptqArgs args) {
        if (h.length != (long) cols * cols) {
            throw new RoutecalException("module " + module + ": Hessian has " + h.length + " entries, expected " + cols + "²");
        }
        for (int i = 0; i < h.length; i++) {
            if (!Double.isFinite(h[i])) {
                throw new RoutecalException("module " + module + ": Hessian entry (" + i / cols + ", " + i % cols
                        + ") is " + h[i] + " (NaN/Inf in the calibration activations?)");
            }
        }
        int[] perm = new int[cols];
        for (int i = 0; i < cols; i++) perm[i] = i;
        if (args.actOrder() != ActOrder.NONE) {
            // stable sort by descending diagonal; torch.argsort is not stable, ties are rare in real Hessians
            Integer[] boxed = new Integer[cols];
            for (int i = 0; i < cols; i++) boxed[i] = i;
            java.util.Arrays.sort(boxed, (a, b) -> Double.compare(h[b * cols + b], h[a * cols + a]));
            for (int i = 0; i < cols; i++) perm[i] = boxed[i];
        }
        // [cols, cols] permuted copy, processing order
        double[] a = new double[cols * cols];
        for (int i = 0; i < cols; i++) {
            int pi = perm[i];
            for (int j = 0; j < cols; j++) a[i * cols + j] = h[pi * cols + perm[j]];
        }
        boolean[] dead = new boolean[cols];
        double diagSum = 0;
        for (int i = 0; i < cols; i++) {
            if (a[i * cols + i] == 0) {
                dead[i] = true;
                a[i * cols + i] = 1; // a column never activated: its weights are zeroed and it costs nothing
            }
            diagSum += a[i * cols + i];
        }
        double damp = args.dampeningFrac() * diagSum / cols;
        for (int i = 0; i < cols; i++) a[i * cols + i] += damp;
        float[] u = new float[cols * cols];
        String reason = CholeskyInverse.upperFactorOfInverse(a, cols, u);
        if (reason != null) {
            java.util.Arrays.fill(u, 0f);
            for (int i = 0; i < cols; i++) u[i * cols + i] = 1f;
        }
        return new PreparedHessian(cols, perm, dead, u, reason != null, reason);
    }

    /** The column sweep for one weight against a prepared Hessian. */
    public static GptqResult solve(String module, QuantScheme scheme, float[] w, int rows, int cols, PreparedHessian p,
                                   GptqArgs args, float globalScale) {
        if (p.cols() != cols || w.length != rows * cols) {
            throw new RoutecalException("module " + module + ": weight is " + w.length + " values, expected " + rows + "×" + cols);
        }
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) {
                throw new RoutecalException("module " + module + ": weight (" + i / cols + ", " + i % cols + ") is " + w[i]);
            }
        }
        scheme.validate(module, rows, cols);
        int gs = scheme.groupSize(cols);
        int[] perm = p.perm();
        // [rows, cols] in processing order
        float[] wp = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) wp[r * cols + j] = w[r * cols + perm[j]];
        }
        boolean group = args.actOrder() == ActOrder.GROUP;
        // STATIC/NONE: scales from the original layout; GROUP: from contiguous groups of the permuted layout
        QuantParams params = group ? scheme.observe(wp, rows, cols, globalScale) : scheme.observe(w, rows, cols, globalScale);
        int[] groupOfStep = new int[cols]; // group of the column processed at step j
        for (int j = 0; j < cols; j++) groupOfStep[j] = group ? j / gs : perm[j] / gs;
        boolean[] dead = p.dead();
        for (int j = 0; j < cols; j++) {
            if (dead[j]) for (int r = 0; r < rows; r++) wp[r * cols + j] = 0f;
        }
        int[] codesP = new int[rows * cols];
        double loss = sweep(scheme, wp, rows, cols, p.hinvUpper(), params, groupOfStep, args.blockSize(), codesP);
        int[] codes = new int[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) codes[r * cols + perm[j]] = codesP[r * cols + j];
        }
        int[] gIdx = null;
        if (group && params.groups() > 1) {
            gIdx = new int[cols];
            for (int j = 0; j < cols; j++) gIdx[perm[j]] = j / gs;
        }
        QuantizedWeight q = new QuantizedWeight(scheme, rows, cols, codes, params, gs, gIdx);
        return new GptqResult(loss, q, p.fallback(), p.deadCount(), p.fallbackReason());
    }

    /** Rows per parallel task: rows are independent in GPTQ (each reads only its own row and U). */
    private static final int ROW_CHUNK = 64;

    /**
     * Quantizes columns in order, spreading each column's error over the not-yet-quantized columns through U.
     * Within a block the update is immediate; the rest of the matrix gets one rank-{@code block} update per block.
     * Output rows are independent, so chunks of rows run in parallel with identical results.
     */
    private static double sweep(QuantScheme scheme, float[] w, int rows, int cols, float[] u, QuantParams params,
                                int[] groupOfStep, int blockSize, int[] codes) {
        int chunks = (rows + ROW_CHUNK - 1) / ROW_CHUNK;
        double[] losses = new double[chunks];
        CpuThreads.forEach(CpuThreads.sharedPool(), chunks, c -> losses[c] = sweepRows(scheme, w, c * ROW_CHUNK,
                Math.min(rows, (c + 1) * ROW_CHUNK), cols, u, params, groupOfStep, blockSize, codes));
        double loss = 0;
        for (double l : losses) loss += l;
        return loss / 2;
    }

    /**
     * The sweep for rows [r0, r1); returns Σ ((w − q)/d)². Each block of columns is worked on transposed (bt: [count, n],
     * the chunk's rows contiguous per column), so the within-block update of every later column is one vector pass over
     * all rows; each weight still receives the same updates in the same order, rounded the same way.
     */
    private static double sweepRows(QuantScheme scheme, float[] w, int r0, int r1, int cols, float[] u, QuantParams params,
                                    int[] groupOfStep, int blockSize, int[] codes) {
        int n = r1 - r0;
        float[] err = new float[n * blockSize]; // [n, blockSize] scaled errors of the current block
        float[] bt = new float[blockSize * n];  // [count, n] the block's columns, transposed
        float[] errColumn = new float[n];       // [n] errors of the column just quantized
        double loss = 0;
        for (int i1 = 0; i1 < cols; i1 += blockSize) {
            int i2 = Math.min(i1 + blockSize, cols);
            int count = i2 - i1;
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < count; c++) bt[c * n + r] = w[(r0 + r) * cols + i1 + c];
            }
            for (int i = i1; i < i2; i++) {
                float d = u[i * cols + i];
                int g = groupOfStep[i], bi = (i - i1) * n;
                for (int r = r0; r < r1; r++) {
                    int rr = r - r0;
                    float x = bt[bi + rr];
                    float scale = params.effectiveScale(r, g);
                    int zero = params.zero(r, g);
                    int code = scheme.encode(x, scale, zero);
                    float q = scheme.decode(code, scale, zero);
                    codes[r * cols + i] = code;
                    bt[bi + rr] = q;
                    float e = (x - q) / d;
                    loss += (double) e * e;
                    err[rr * blockSize + (i - i1)] = e;
                    errColumn[rr] = e;
                }
                // W[:, i+1:i2] -= e · U[i, i+1:i2], one column (a row of bt) at a time
                GptqSweepKernels.subtractOuter(bt, bi + n, n, i2 - i - 1, errColumn, u, i * cols + i + 1);
            }
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < count; c++) w[(r0 + r) * cols + i1 + c] = bt[c * n + r];
            }
            if (i2 == cols) continue;
            // W[:, i2:] -= Err1 · U[i1:i2, i2:]: the product is summed first and subtracted once, as the reference's
            // matmul does (subtracting term by term rounds 128 times and drifts from it)
            GptqSweepKernels.subtractProduct(w, r0 * cols + i2, cols, err, 0, blockSize, u, i1 * cols + i2, cols, n, count, cols - i2);
        }
        return loss;
    }
}
