package org.routecal.compute.cuda;

import org.routecal.compute.cuda.ref.RouterScoring;
import org.routecal.compute.cuda.ref.MoeOps;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.routecal.compute.cuda.ref.HessianInverse;
import org.routecal.compute.cuda.ref.Numerics;
import org.routecal.compute.cuda.ref.ReferenceMoeOps;

/**
 * GPU parity run: every kernel (through {@link CudaMoeOps}) against {@link ReferenceMoeOps} on random inputs at model
 * sizes (Qwen3-30B-A3B geometry where it matters), with a tolerance declared per op (STYLE H4). Prints one line per
 * check and writes a JSON report; exits 1 when a check fails, 3 when no GPU is usable.
 *
 * <pre>java -cp routecal.jar org.routecal.compute.cuda.GpuParity [--out parity.json] [--seed 1]</pre>
 *
 * Tolerances: fp32 kernels NMSE ≤ 1e-9 (summation order only); GEMMs get bf16-rounded inputs on both sides, so plain
 * GEMM also ≤ 1e-9 and the MoE block (whose intermediate activation is bf16 on the GPU) ≤ 1e-4; quantizers must match
 * bit for bit; router ids must match except at near-ties (|Δscore| ≤ 1e-6 between rank k and k+1), whose rate is
 * reported; GPTQ (the same order and rounding as the host solver) ≥ 99.9 % of weights equal and loss within 1 %.
 */
public final class GpuParity {
    /** One check's outcome. */
    public record Check(String op, String shape, String metric, double value, double limit, boolean pass, String note) {}

    private final MoeOps ref = new ReferenceMoeOps();
    private final MoeOps gpu;
    private final SplittableRandom rnd;
    private final List<Check> checks = new ArrayList<>();

    private GpuParity(MoeOps gpu, long seed) {
        this.gpu = gpu;
        this.rnd = new SplittableRandom(seed);
    }

    public static void main(String[] args) throws Exception {
        Path out = null;
        long seed = 1;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out")) out = Path.of(args[++i]);
            else if (args[i].equals("--seed")) seed = Long.parseLong(args[++i]);
        }
        CudaAvailability.Probe p = CudaAvailability.probe();
        if (!p.available()) {
            System.out.println("GPU parity skipped: " + p.reason());
            System.exit(3);
        }
        System.out.println("device: " + p.describe());
        List<Check> checks;
        try (CudaMoeOps ops = new CudaMoeOps(CudaContext.open(), true)) {
            checks = run(ops, seed);
        }
        boolean ok = checks.stream().allMatch(Check::pass);
        if (out != null) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("format", "routecal-gpu-parity");
            json.put("format_version", 1);
            json.put("device", p.describe());
            json.put("seed", seed);
            json.put("pass", ok);
            json.put("checks", checks);
            org.routecal.io.AtomicFiles.writeJson(out, json);
        }
        System.out.println(ok ? "GPU parity: all " + checks.size() + " checks passed" : "GPU parity: FAILED");
        System.exit(ok ? 0 : 1);
    }

    /** Runs every check on {@code gpu} and returns the outcomes (also printed). */
    public static List<Check> run(MoeOps gpu, long seed) {
        GpuParity g = new GpuParity(gpu, seed);
        g.elementwise();
        g.gemms();
        g.router();
        g.moe();
        g.attention();
        g.hessian();
        g.quantizers();
        g.gptq();
        return g.checks;
    }

    private float[] randn(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = rnd.nextDouble(), u2 = rnd.nextDouble();
            a[i] = (float) (scale * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return a;
    }

    private static float[] bf16(float[] a) {
        float[] b = new float[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Numerics.roundBf16(a[i]);
        return b;
    }

    static double nmse(float[] expected, float[] actual) {
        double num = 0, den = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) actual[i] - expected[i];
            num += d * d;
            den += (double) expected[i] * expected[i];
        }
        return den == 0 ? num : num / den;
    }

    private void nmseCheck(String op, String shape, float[] expected, float[] actual, double limit) {
        double v = nmse(expected, actual);
        record(new Check(op, shape, "nmse", v, limit, v <= limit && !Double.isNaN(v), ""));
    }

    private void exactCheck(String op, String shape, float[] expected, float[] actual) {
        int diff = 0;
        for (int i = 0; i < expected.length; i++) if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) diff++;
        record(new Check(op, shape, "mismatches", diff, 0, diff == 0, "of " + expected.length));
    }

    private void exactCheck(String op, String shape, byte[] expected, byte[] actual) {
        int diff = 0;
        for (int i = 0; i < expected.length; i++) if (expected[i] != actual[i]) diff++;
        record(new Check(op, shape, "mismatches", diff, 0, diff == 0, "of " + expected.length));
    }

    private void record(Check c) {
        checks.add(c);
        System.out.printf("%-4s %-28s %-34s %s=%.3g (limit %.3g) %s%n", c.pass() ? "ok" : "FAIL", c.op(), c.shape(), c.metric(), c.value(),
                c.limit(), c.note());
    }

    private void elementwise() {
        int rows = 512, hidden = 2048;
        float[] x = randn(rows * hidden, 1), w = randn(hidden, 0.3);
        nmseCheck("rmsnorm (block/row)", rows + "x" + hidden, ref.rmsnorm(x, rows, hidden, w, 1e-6f), gpu.rmsnorm(x, rows, hidden, w, 1e-6f), 1e-9);
        float[] xh = randn(rows * 32 * 128, 1), wh = randn(128, 0.3);
        nmseCheck("rmsnorm (warp/row, q_norm)", rows * 32 + "x128", ref.rmsnorm(xh, rows * 32, 128, wh, 1e-6f),
                gpu.rmsnorm(xh, rows * 32, 128, wh, 1e-6f), 1e-9);
        int tokens = 300, heads = 32, hd = 128;
        int[] pos = new int[tokens];
        for (int t = 0; t < tokens; t++) pos[t] = t * 97 % 32768;  // positions up to 32k exercise the range reduction
        float[] inv = new float[hd / 2];
        for (int i = 0; i < hd / 2; i++) inv[i] = (float) (1.0 / Math.pow(1_000_000.0, 2.0 * i / hd));
        float[] a = randn(tokens * heads * hd, 1), b = a.clone();
        ref.ropeNeox(a, tokens, heads, hd, hd, pos, inv, 1f);
        gpu.ropeNeox(b, tokens, heads, hd, hd, pos, inv, 1f);
        nmseCheck("rope_neox", tokens + "x" + heads + "x" + hd + " theta 1e6", a, b, 1e-9);
        float[] g = randn(rows * 768, 2), u = randn(rows * 768, 1);
        nmseCheck("silu_mul", rows + "x768", ref.siluMul(g, u, rows, 768), gpu.siluMul(g, u, rows, 768), 1e-9);
    }

    private void gemms() {
        int[][] shapes = {{256, 2048, 768}, {200, 768, 100}, {1, 2048, 128}, {130, 136, 260}};
        for (int[] s : shapes) {
            float[] x = bf16(randn(s[0] * s[1], 1)), w = bf16(randn(s[2] * s[1], 0.05));
            nmseCheck("gemm_bf16 (mma m16n8k16)", "M" + s[0] + " K" + s[1] + " N" + s[2], ref.linear(x, s[0], s[1], w, s[2]),
                    gpu.linear(x, s[0], s[1], w, s[2]), 1e-9);
        }

    }

    private void router() {
        int tokens = 2048, experts = 128, k = 8;
        float[] logits = randn(tokens * experts, 1);
        for (int t = 0; t < 16; t++) logits[t * experts + 5] = logits[t * experts + 77];  // exact ties
        routerCheck("router softmax top-8 renorm", logits, tokens, experts, k, RouterScoring.SOFTMAX, null, true, 1f);
        float[] bias = randn(256, 0.05), l2 = randn(tokens * 256, 1);
        routerCheck("router sigmoid+bias top-8", l2, tokens, 256, k, RouterScoring.SIGMOID, bias, true, 2.5f);
        int[] ids = new int[tokens * k];
        for (int i = 0; i < ids.length; i++) ids[i] = rnd.nextInt(experts);
        int[] a = ref.expertHistogram(ids, experts), b = gpu.expertHistogram(ids, experts);
        int diff = 0;
        for (int e = 0; e < experts; e++) diff += a[e] != b[e] ? 1 : 0;
        record(new Check("expert_histogram", tokens + "x" + k + " E" + experts, "mismatches", diff, 0, diff == 0, ""));
    }

    private void routerCheck(String op, float[] logits, int tokens, int experts, int k, RouterScoring sc, float[] bias, boolean renorm,
                             float scaling) {
        MoeOps.TopK a = ref.routerTopk(logits, tokens, experts, k, sc, bias, renorm, scaling);
        MoeOps.TopK b = gpu.routerTopk(logits, tokens, experts, k, sc, bias, renorm, scaling);
        int nearTie = 0, mismatch = 0, mismatchOutsideTie = 0;
        for (int t = 0; t < tokens; t++) {
            float[] choice = new float[experts];
            for (int e = 0; e < experts; e++) {
                float l = logits[t * experts + e];
                choice[e] = sc == RouterScoring.SIGMOID ? (float) (1 / (1 + Math.exp(-l))) + (bias != null ? bias[e] : 0) : l;
            }
            float[] sorted = choice.clone();
            java.util.Arrays.sort(sorted);
            boolean tie = false;
            for (int r = experts - k - 1; r < experts - 1; r++) tie |= Math.abs(sorted[r + 1] - sorted[r]) <= 1e-6f * Math.max(1f, Math.abs(sorted[r]));
            nearTie += tie ? 1 : 0;
            boolean same = true;
            for (int j = 0; j < k; j++) same &= a.ids()[t * k + j] == b.ids()[t * k + j];
            if (!same) {
                mismatch++;
                if (!tie) mismatchOutsideTie++;
            }
        }
        record(new Check(op, tokens + "x" + experts + " k" + k, "id mismatches outside near-ties", mismatchOutsideTie, 0, mismatchOutsideTie == 0,
                String.format("near-tie rate %.4f (%d tokens), mismatches at ties %d", nearTie / (double) tokens, nearTie, mismatch - mismatchOutsideTie)));
        nmseCheck(op + " weights", tokens + "x" + k, a.weights(), b.weights(), 1e-9);
    }

    private void moe() {
        int[][] shapes = {{64, 256, 128, 16, 4}, {128, 2048, 768, 128, 8}};  // tokens, hidden, inter, experts, k
        for (int[] s : shapes) {
            int tokens = s[0], hidden = s[1], inter = s[2], experts = s[3], k = s[4];
            float[] x = bf16(randn(tokens * hidden, 1));
            float[] gateUp = bf16(randn(experts * 2 * inter * hidden, 0.03)), down = bf16(randn(experts * hidden * inter, 0.03));
            float[] logits = randn(tokens * experts, 1);
            MoeOps.TopK r = ref.routerTopk(logits, tokens, experts, k, RouterScoring.SOFTMAX, null, true, 1f);
            nmseCheck("moe experts (sort+grouped gemm)", "T" + tokens + " H" + hidden + " I" + inter + " E" + experts + " k" + k,
                    ref.moeExperts(x, tokens, hidden, r, gateUp, down, experts, inter), gpu.moeExperts(x, tokens, hidden, r, gateUp, down, experts, inter),
                    1e-4);
        }
    }

    private void attention() {
        int[][] cases = {{32, 4, 128}, {16, 16, 64}};
        int[] seqStart = {0, 300, 377, 506};
        for (int[] c : cases) {
            int hq = c[0], hkv = c[1], d = c[2], total = seqStart[seqStart.length - 1];
            float[] q = randn(total * hq * d, 1), kk = randn(total * hkv * d, 1), v = randn(total * hkv * d, 1);
            float scale = (float) (1 / Math.sqrt(d));
            nmseCheck("attention_prefill causal GQA", "seqs 300/77/129 hq" + hq + " hkv" + hkv + " d" + d,
                    ref.attentionPrefill(q, kk, v, seqStart, hq, hkv, d, scale), gpu.attentionPrefill(q, kk, v, seqStart, hq, hkv, d, scale), 1e-9);
        }
    }

    private void hessian() {
        int rows = 500, kd = 200;
        float[] x = randn(rows * kd, 1);
        int[] offsets = {0, 120, 120, 333};  // an empty expert in the middle
        int[] rowIndex = new int[333];
        float[] rowWeight = new float[333];
        for (int i = 0; i < 333; i++) {
            rowIndex[i] = rnd.nextInt(rows);
            rowWeight[i] = (float) rnd.nextDouble();
        }
        nmseCheck("hessian_accumulate (gather, weights)", "3 experts K" + kd, ref.hessian(x, kd, offsets, rowIndex, rowWeight, 2f),
                gpu.hessian(x, kd, offsets, rowIndex, rowWeight, 2f), 1e-9);
    }

    private void quantizers() {
        int rows = 768, kd = 2048;
        float[] w = randn(rows * kd, 0.02);
        for (int g = 0; g < 128; g++) w[g] = 0f;  // an all-zero group
        for (boolean sym : new boolean[] {true, false}) {
            MoeOps.IntQuant a = ref.rtnInt(w, rows, kd, 128, 4, sym, true), b = gpu.rtnInt(w, rows, kd, 128, 4, sym, true);
            String name = "rtn int4 g128 " + (sym ? "sym" : "asym");
            exactCheck(name + " scale", rows + "x" + kd, a.scale(), b.scale());
            exactCheck(name + " q", rows + "x" + kd, a.q(), b.q());
            exactCheck(name + " deq", rows + "x" + kd, a.deq(), b.deq());
        }
        MoeOps.IntQuant a8 = ref.rtnInt(w, rows, kd, kd, 8, true, true), b8 = gpu.rtnInt(w, rows, kd, kd, 8, true, true);
        exactCheck("rtn int8 channel q", rows + "x" + kd, a8.q(), b8.q());
        MoeOps.Fp8Quant f1 = ref.fp8(w, rows, kd, kd, true), f2 = gpu.fp8(w, rows, kd, kd, true);
        exactCheck("fp8 e4m3 channel codes", rows + "x" + kd, f1.codes(), f2.codes());
        exactCheck("fp8 e4m3 channel deq", rows + "x" + kd, f1.deq(), f2.deq());
        MoeOps.Nvfp4Quant n1 = ref.nvfp4(w, rows, kd), n2 = gpu.nvfp4(w, rows, kd);
        exactCheck("nvfp4 packed", rows + "x" + kd, n1.packed(), n2.packed());
        exactCheck("nvfp4 scales", rows + "x" + kd, n1.scaleCodes(), n2.scaleCodes());
    }

    private void gptq() {
        int kd = 512, rows = 256, n = 2048;
        float[] x = randn(n * kd, 1);
        float[] h = ref.hessian(x, kd, new int[] {0, n}, null, null, 2f / n);
        float[] u = HessianInverse.upperCholeskyOfInverse(h, kd, 0.01);
        float[][] uGpu = gpu.hinvUpper(h, 1, kd, 0.01f);
        if (uGpu[0] == null) {
            record(new Check("hinv_upper_b1", "K" + kd, "status", 1, 0, false, "GPU Cholesky reported not positive definite"));
        } else {
            nmseCheck("hinv_upper_b1 (fp32 Cholesky)", "K" + kd, u, uGpu[0], 1e-6);
        }
        if (gpu instanceof CudaMoeOps cm) { // the double variant the device solver uses: same factor as the host's, to fp32 rounding
            try (DeviceBuffer dh = DeviceBuffer.of(cm.context(), h, "h"); DeviceBuffer work = DeviceBuffer.allocate(cm.context(), 8L * kd * kd, "work");
                 DeviceBuffer du = DeviceBuffer.allocate(cm.context(), 4L * kd * kd, "u"); DeviceBuffer st = DeviceBuffer.allocate(cm.context(), 4, "status")) {
                new CudaKernels(cm.context()).hinvUpperF64(dh, work, du, 1, kd, 0.01f, st, null);
                cm.context().synchronize("hinv_upper_f64");
                nmseCheck("hinv_upper_f64 (double Cholesky)", "K" + kd, u, du.downloadFloats(kd * kd), 1e-12);
            }
        }
        float[] w = randn(rows * kd, 0.02);
        MoeOps.IntQuant sc = ref.rtnInt(w, rows, kd, 128, 4, true, false);
        MoeOps.GptqResult a = ref.gptqSweep(w, rows, kd, u, 0, sc.scale(), null, null, 128, -8, 7);
        MoeOps.GptqResult b = gpu.gptqSweep(w, rows, kd, u, 0, sc.scale(), null, null, 128, -8, 7);
        int same = 0;
        for (int i = 0; i < a.deq().length; i++) if (Math.abs(a.deq()[i] - b.deq()[i]) <= 1e-6f) same++;
        double frac = same / (double) a.deq().length;
        record(new Check("gptq_sweep_rows32 shared H", rows + "x" + kd + " int4 g128", "fraction equal", frac, 0.999, frac >= 0.999, ""));
        double la = 0, lb = 0;
        for (int i = 0; i < rows; i++) {
            la += a.loss()[i];
            lb += b.loss()[i];
        }
        double rel = Math.abs(la - lb) / la;
        record(new Check("gptq_sweep_rows32 loss", rows + "x" + kd, "relative diff", rel, 0.01, rel <= 0.01, ""));

        // Two Hessians (rowsPerH 128), asymmetric zero points and an act-order group index.
        float[] u2 = new float[2 * kd * kd];
        System.arraycopy(u, 0, u2, 0, kd * kd);
        float[] h2 = ref.hessian(randn(n * kd, 1), kd, new int[] {0, n}, null, null, 2f / n);
        System.arraycopy(HessianInverse.upperCholeskyOfInverse(h2, kd, 0.01), 0, u2, kd * kd, kd * kd);
        int[] gIdx = new int[(rows / 128) * kd]; // one column-group map per Hessian (act-order permutes each matrix its own way)
        for (int c = 0; c < gIdx.length; c++) gIdx[c] = rnd.nextInt(kd / 128);
        MoeOps.IntQuant asym = ref.rtnInt(w, rows, kd, 128, 4, false, false);
        MoeOps.GptqResult c = ref.gptqSweep(w, rows, kd, u2, 128, asym.scale(), asym.zp(), gIdx, 128, -8, 7);
        MoeOps.GptqResult d = gpu.gptqSweep(w, rows, kd, u2, 128, asym.scale(), asym.zp(), gIdx, 128, -8, 7);
        int same2 = 0;
        for (int i = 0; i < c.deq().length; i++) if (Math.abs(c.deq()[i] - d.deq()[i]) <= 1e-6f) same2++;
        double frac2 = same2 / (double) c.deq().length;
        record(new Check("gptq_sweep_rows32 2 H, asym, g_idx", rows + "x" + kd + " int4 g128", "fraction equal", frac2, 0.999, frac2 >= 0.999, ""));
    }
}
