package org.routecal.compute.devices;

import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.compute.Precision;
import org.routecal.compute.AttentionLayout;
import org.routecal.compute.ExpertGroups;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import org.routecal.compute.cpu.CpuBackend;
import org.routecal.compute.cpu.ReferenceOps;
import org.routecal.compute.RouterRule;

/**
 * Every {@link Backend} op against the scalar reference ({@link CpuBackend} over {@link ReferenceOps}) on random
 * inputs at model-like shapes (STYLE H4), in the candidate's precision: in {@link Precision#BF16} the reference
 * rounds the same operands, so both sides compute the same math and differ by summation order only. One tolerance per
 * op: NMSE ≤ 1e-9 for element-wise fp32 ops, ≤ 1e-8 for products and attention, exact for routing ids (ties are
 * avoided by construction), integer equality for counts.
 *
 * <pre>java -cp routecal.jar org.routecal.compute.devices.BackendParity --device cuda [--precision bf16|fp32|both] [--small] [--out parity.json]</pre>
 */
public final class BackendParity {
    /** One check's outcome. */
    public record Check(String op, String shape, String metric, double value, double limit, boolean pass) {
        @Override
        public String toString() {
            return String.format("%-4s %-28s %-34s %s = %.3e (limit %.1e)", pass ? "ok" : "FAIL", op, shape, metric, value, limit);
        }
    }

    private final Backend ref;
    private final Backend dut;
    private final SplittableRandom rnd;
    private final List<Check> checks = new ArrayList<>();
    private final boolean small;

    /** @param small quarter-size products (CPU-only CI, where the scalar reference is slow) */
    public BackendParity(Backend candidate, long seed, boolean small) {
        this.small = small;
        this.dut = candidate;
        this.ref = new CpuBackend(new ReferenceOps(), candidate.precision(), "parity reference");
        this.rnd = new SplittableRandom(seed);
    }

    public static void main(String[] args) throws Exception {
        String device = "cuda", precision = "fp32";
        Path out = null;
        boolean small = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = args[++i];
                case "--precision" -> precision = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                case "--small" -> small = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        List<Check> all = new ArrayList<>();
        for (String p : precision.equals("both") ? List.of("fp32", "bf16") : List.of(precision)) {
            try (Backend b = Devices.open(device, p, null)) {
                System.out.println("backend: " + b.name());
                List<Check> checks = new BackendParity(b, 1, small).run();
                checks.forEach(System.out::println);
                all.addAll(checks);
            }
        }
        if (out != null) {
            Files.writeString(out, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(all));
        }
        long failed = all.stream().filter(c -> !c.pass()).count();
        System.out.println((all.size() - failed) + " of " + all.size() + " backend checks passed");
        System.exit(failed == 0 ? 0 : 1);
    }

    /** Runs every check; returns them in order. */
    public List<Check> run() {
        elementwise();
        products();
        attention();
        routing();
        statistics();
        return checks;
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private float[] randn(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double u = rnd.nextDouble(), v = rnd.nextDouble();
            a[i] = (float) (scale * Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v));
        }
        return a;
    }

    /** A pair of equal tensors, one on each backend. */
    private record Pair(Tensor r, Tensor d) implements AutoCloseable {
        @Override public void close() { r.close(); d.close(); }
    }

    private Pair pair(float[] v, int rows, int cols, TensorType type) {
        return new Pair(ref.upload(v, rows, cols, type, "ref"), dut.upload(v, rows, cols, type, "dut"));
    }

    /** As {@link #pair}, the device side's weight prepared as models hand weights over ({@code prepareLinearWeights}). */
    private Pair prepared(float[] v, int rows, int cols, TensorType type, int segmentRows) {
        return new Pair(ref.upload(v, rows, cols, type, "ref"), dut.prepareLinearWeights(dut.upload(v, rows, cols, type, "dut"), segmentRows));
    }

    private Pair ints(int[] v, int rows, int cols) {
        return new Pair(ref.uploadInts(v, rows, cols, "ref"), dut.uploadInts(v, rows, cols, "dut"));
    }

    private Pair zeros(TensorType type, int rows, int cols) {
        return new Pair(ref.allocate(type, rows, cols, "ref"), dut.allocate(type, rows, cols, "dut"));
    }

    /** Compares, then copies the reference's values into the candidate so the next op starts from equal inputs. */
    private void nmse(String op, String shape, Pair p, double limit) {
        float[] a = ref.download(p.r()), b = dut.download(p.d());
        nmse(op, shape, a, b, limit);
        if (p.r().type() != TensorType.I32) dut.write(p.d(), 0, a);
    }

    private void nmse(String op, String shape, float[] a, float[] b, double limit) {
        double num = 0, den = 0;
        boolean finite = a.length == b.length;
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            double d = (double) a[i] - b[i];
            if (!Double.isFinite(d)) finite = false;
            num += d * d;
            den += (double) a[i] * a[i];
        }
        double v = finite ? (den == 0 ? num : num / den) : Double.POSITIVE_INFINITY;
        checks.add(new Check(op, shape, "nmse", v, limit, v <= limit));
    }

    private void exact(String op, String shape, int[] a, int[] b) {
        long diff = 0;
        for (int i = 0; i < Math.min(a.length, b.length); i++) if (a[i] != b[i]) diff++;
        if (a.length != b.length) diff = Math.max(a.length, b.length);
        checks.add(new Check(op, shape, "mismatches", diff, 0, diff == 0));
    }

    private void both(Consumer<Backend> op) {
        op.accept(ref);
        op.accept(dut);
    }

    private Tensor side(Backend b, Pair p) { return b == ref ? p.r() : p.d(); }

    // ---- checks ----------------------------------------------------------------------------------------------------

    private void elementwise() {
        int rows = 300, cols = 2048;
        float[] x = randn(rows * cols, 1);
        for (TensorType t : new TensorType[]{TensorType.F32, TensorType.BF16}) {
            try (Pair table = pair(randn(500 * 256, 1), 500, 256, t); Pair ids = ints(rnd.ints(rows, 0, 500).toArray(), 1, rows);
                 Pair o = zeros(TensorType.F32, rows, 256)) {
                both(b -> b.gatherRows(side(b, table), side(b, ids), side(b, o)));
                nmse("gatherRows " + t, rows + " of 500x256", o, 0);
            }
        }
        try (Pair a = pair(x, rows, cols, TensorType.F32); Pair w = pair(randn(cols, 1), 1, cols, TensorType.F32);
             Pair o = zeros(TensorType.F32, rows, cols)) {
            both(b -> b.rmsNorm(side(b, a), side(b, w), 1e-6f, side(b, o)));
            nmse("rmsNorm", rows + "x" + cols, o, 1e-12);
            Tensor ar = a.r().reshape((long) rows * 16, 128), ad = a.d().reshape((long) rows * 16, 128);
            try (Pair w2 = pair(randn(128, 1), 1, 128, TensorType.F32)) {
                ref.rmsNorm(ar, w2.r(), 1e-6f, ar);
                dut.rmsNorm(ad, w2.d(), 1e-6f, ad);
                nmse("rmsNorm per head, in place", rows * 16 + "x128", a, 1e-12);
                dut.write(a.d(), 0, ref.download(a.r()));
            }
            both(b -> b.add(side(b, o), side(b, a)));
            nmse("add", rows + "x" + cols, o, 1e-14);
            both(b -> b.axpy(-0.75f, side(b, a), side(b, o)));
            nmse("axpy", rows + "x" + cols, o, 1e-14);
            both(b -> b.addBias(side(b, o), side(b, w)));
            nmse("addBias", rows + "x" + cols, o, 1e-14);
            both(b -> b.clamp(side(b, o), 0.5f));
            nmse("clamp", rows + "x" + cols, o, 0);
            try (Pair g = pair(randn(rows, 2), rows, 1, TensorType.F32)) {
                both(b -> b.scaleRowsBySigmoid(side(b, o), side(b, g)));
                nmse("scaleRowsBySigmoid", rows + "x" + cols, o, 1e-12);
            }
            try (Pair gu = pair(randn(rows * 2 * 768, 2), rows, 2 * 768, TensorType.F32); Pair act = zeros(TensorType.F32, rows, 768)) {
                both(b -> b.siluMul(side(b, gu), side(b, act)));
                nmse("siluMul", rows + "x768", act, 1e-12);
                // std 4 puts many gates and ups beyond the limit, so both clamps act
                try (Pair wide = pair(randn(rows * 2 * 768, 4), rows, 2 * 768, TensorType.F32)) {
                    both(b -> b.clampedSwiglu(side(b, wide), 1.702f, 7f, side(b, act)));
                    nmse("clampedSwiglu alpha 1.702 limit 7", rows + "x768", act, 1e-12);
                }
            }
            try (Pair sc = pair(randn(rows, 1), 1, rows, TensorType.F32)) {
                both(b -> b.scaleRows(side(b, o), side(b, sc), null));
                nmse("scaleRows", rows + "x" + cols, o, 1e-14);
            }
            int[] perm = permutation(rows);
            try (Pair sc = pair(randn(rows, 1), rows / 4, 4, TensorType.F32); Pair idx = ints(perm, 1, rows)) {
                both(b -> b.scaleRows(side(b, o), side(b, sc), side(b, idx)));
                nmse("scaleRows through a row index", rows + "x" + cols, o, 1e-14);
            }
            // MLA's splits and joins: q's rotary part of 16 heads of 192 (nope 128 + rope 64), and one shared block into every head
            try (Pair q = pair(randn(rows * 16 * 192, 1), rows, 16 * 192, TensorType.F32); Pair part = zeros(TensorType.F32, rows, 16 * 64);
                 Pair shared = pair(randn(rows * 64, 1), rows, 64, TensorType.F32)) {
                both(b -> b.copyColumns(side(b, q), 128, 192, side(b, part), 0, 64, 64, 16));
                nmse("copyColumns per-head split", rows + "x16x64 of 192", part, 0);
                both(b -> b.copyColumns(side(b, shared), 0, 0, side(b, q), 128, 192, 64, 16));
                nmse("copyColumns broadcast into heads", rows + "x16x192", q, 0);
            }
            try (Pair c = zeros(TensorType.F32, 10, cols)) {
                both(b -> b.copyRows(side(b, a), 17, side(b, c), 3, 5));
                nmse("copyRows", "5 rows", c, 0);
            }
        }
        float[] bad = randn(100_000, 1);
        bad[7] = Float.NaN;
        bad[99_999] = Float.POSITIVE_INFINITY;
        try (Pair p = pair(bad, 100, 1000, TensorType.F32)) {
            long r = ref.countNonFinite(p.r()), d = dut.countNonFinite(p.d());
            checks.add(new Check("countNonFinite", "100x1000", "count difference", Math.abs(r - d), 0, r == 2 && d == 2));
        }
    }

    private void products() {
        TensorType wt = dut.precision() == Precision.BF16 ? TensorType.BF16 : TensorType.F32;
        int[][] shapes = small ? new int[][]{{64, 512, 192}, {200, 768, 100}, {1, 2048, 128}, {130, 136, 260}}
                : new int[][]{{256, 2048, 768}, {200, 768, 100}, {1, 2048, 128}, {130, 136, 260}, {64, 2048, 4096}};
        for (int[] s : shapes) {
            try (Pair x = pair(randn(s[0] * s[1], 1), s[0], s[1], TensorType.F32); Pair w = pair(randn(s[2] * s[1], 0.05), s[2], s[1], wt);
                 Pair bias = pair(randn(s[2], 1), 1, s[2], TensorType.F32); Pair o = pair(randn(s[0] * s[2], 1), s[0], s[2], TensorType.F32)) {
                both(b -> b.linear(side(b, x), side(b, w), side(b, bias), side(b, o), true));
                nmse("linear " + wt + " +bias accumulate", "M" + s[0] + " K" + s[1] + " N" + s[2], o, 1e-8);
            }
        }
        // grouped expert products at Qwen3-30B-A3B expert shapes: 512 tokens, top-8 of 128 experts
        int tokens = small ? 128 : 512, k = 8, experts = small ? 32 : 128, hidden = small ? 512 : 2048, inter = small ? 192 : 768;
        int[] ids = topkIds(tokens, experts, k);
        try (Pair idt = ints(ids, tokens, k); Pair x = pair(randn(tokens * hidden, 1), tokens, hidden, TensorType.F32);
             Pair stack = pair(randn(experts * 2 * inter * hidden, 0.02), experts * 2 * inter, hidden, wt);
             Pair down = pair(randn(experts * hidden * inter, 0.02), experts * hidden, inter, wt);
             Pair gu = zeros(TensorType.F32, tokens * k, 2 * inter); Pair a = zeros(TensorType.F32, tokens * k, inter);
             Pair y = zeros(TensorType.F32, tokens * k, hidden); Pair out = zeros(TensorType.F32, tokens, hidden);
             Pair wts = pair(randn(tokens * k, 0.3), tokens, k, TensorType.F32)) {
            ExpertGroups gr = ref.groupByExpert(idt.r(), experts), gd = dut.groupByExpert(idt.d(), experts);
            exact("groupByExpert offsets", tokens + "x" + k + " of " + experts, ref.downloadInts(gr.offsets()), dut.downloadInts(gd.offsets()));
            exact("groupByExpert sorted tokens", tokens + "x" + k, ref.downloadInts(gr.sortedToken()), dut.downloadInts(gd.sortedToken()));
            exact("groupByExpert slot positions", tokens + "x" + k, ref.downloadInts(gr.slotPos()), dut.downloadInts(gd.slotPos()));
            ref.groupedLinear(x.r(), true, gr, views(stack.r(), experts), gu.r());
            dut.groupedLinear(x.d(), true, gd, views(stack.d(), experts), gu.d());
            nmse("groupedLinear gather " + wt, tokens + "x8 -> " + experts + " experts " + 2 * inter + "x" + hidden, gu, 1e-8);
            both(b -> b.siluMul(side(b, gu), side(b, a)));
            ref.groupedLinear(a.r(), false, gr, views(down.r(), experts), y.r());
            dut.groupedLinear(a.d(), false, gd, views(down.d(), experts), y.d());
            nmse("groupedLinear sorted " + wt, tokens * k + " rows -> " + experts + " experts " + hidden + "x" + inter, y, 1e-8);
            try (Pair bias = pair(randn(experts * hidden, 0.5), experts, hidden, TensorType.F32)) {
                both(b -> b.addGroupedBias(side(b, y), b == ref ? gr : gd, side(b, bias)));
                nmse("addGroupedBias", tokens * k + " rows of " + experts + " experts x" + hidden, y, 1e-14);
            }
            ref.combine(y.r(), gr, wts.r(), out.r());
            dut.combine(y.d(), gd, wts.d(), out.d());
            nmse("combine", tokens + "x" + hidden, out, 1e-10);
            int[] off = ref.downloadInts(gr.offsets());
            double[] sr = ref.sumSquaresByGroup(y.r(), off, 100, 400), sd = dut.sumSquaresByGroup(y.d(), off, 100, 400);
            float[] fr = new float[sr.length], fd = new float[sd.length];
            for (int i = 0; i < sr.length; i++) { fr[i] = (float) sr[i]; fd[i] = (float) sd[i]; }
            nmse("sumSquaresByGroup", experts + " groups, cols 100..400", fr, fd, 1e-10);
            gr.close();
            gd.close();
        }
        // the same products on weights as models hand them over: the CPU packs them in panels (bf16 ones as bf16 panels)
        try (Pair idt = ints(ids, tokens, k); Pair x = pair(randn(tokens * hidden, 1), tokens, hidden, TensorType.F32);
             Pair stack = prepared(randn(experts * 2 * inter * hidden, 0.02), experts * 2 * inter, hidden, wt, 2 * inter);
             Pair gu = zeros(TensorType.F32, tokens * k, 2 * inter); Pair o = zeros(TensorType.F32, tokens, 2 * inter)) {
            ExpertGroups gr = ref.groupByExpert(idt.r(), experts), gd = dut.groupByExpert(idt.d(), experts);
            ref.groupedLinear(x.r(), true, gr, views(stack.r(), experts), gu.r());
            dut.groupedLinear(x.d(), true, gd, views(stack.d(), experts), gu.d());
            nmse("groupedLinear gather, prepared " + wt, tokens + "x8 -> " + experts + " experts " + 2 * inter + "x" + hidden, gu, 1e-8);
            both(b -> b.linear(side(b, x), b == ref ? stack.r().rows(0, 2L * inter) : stack.d().rows(0, 2L * inter), null, side(b, o), false));
            nmse("linear, prepared " + wt, "M" + tokens + " K" + hidden + " N" + 2 * inter, o, 1e-8);
            gr.close();
            gd.close();
        }
    }

    /** Top-k ids without repeats per token, skewed so some experts get many rows and some none. */
    private int[] topkIds(int tokens, int experts, int k) {
        int[] ids = new int[tokens * k];
        for (int t = 0; t < tokens; t++) {
            boolean[] used = new boolean[experts];
            for (int j = 0; j < k; j++) {
                int e;
                do { e = (int) Math.min(experts - 1, Math.abs(rnd.nextGaussian()) * experts / 3); } while (used[e]);
                used[e] = true;
                ids[t * k + j] = e;
            }
        }
        return ids;
    }

    /** A random permutation of 0..n-1 (distinct rows for scaleRows through an index). */
    private int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static List<Tensor> views(Tensor stack, int experts) {
        long per = stack.rows() / experts;
        List<Tensor> out = new ArrayList<>();
        for (int e = 0; e < experts; e++) out.add(stack.rows(e * per, (e + 1) * per));
        return out;
    }

    private void attention() {
        for (int hd : new int[]{64, 128}) {
            int heads = 8, kvHeads = 2, seqs = 4;
            int[] lengths = {37, 300, 64, 5}; // partial and whole 64-row tiles of the tensor-core kernel, and a short one
            int total = Arrays.stream(lengths).sum();
            int[] start = new int[seqs + 1];
            for (int s = 0; s < seqs; s++) start[s + 1] = start[s] + lengths[s];
            int[] pos = new int[total];
            for (int s = 0; s < seqs; s++) for (int t = 0; t < lengths[s]; t++) pos[start[s] + t] = t + 3;
            float[] inv = new float[hd / 2];
            for (int i = 0; i < inv.length; i++) inv[i] = (float) (1.0 / Math.pow(1e6, 2.0 * i / hd));
            try (Pair q = pair(randn(total * heads * hd, 1), total, heads * hd, TensorType.F32);
                 Pair kk = pair(randn(total * kvHeads * hd, 1), total, kvHeads * hd, TensorType.F32);
                 Pair v = pair(randn(total * kvHeads * hd, 1), total, kvHeads * hd, TensorType.F32);
                 Pair p = ints(pos, 1, total); Pair st = ints(start, 1, seqs + 1);
                 Pair o = zeros(TensorType.F32, total, heads * hd)) {
                both(b -> b.rope(side(b, q), heads, hd, hd, side(b, p), inv, 1.0f));
                nmse("rope neox", total + "x" + heads + "x" + hd, q, 1e-12);
                both(b -> b.rope(side(b, kk), kvHeads, hd, hd / 2, side(b, p), inv, 1.2f));
                nmse("rope partial + yarn scale", total + "x" + kvHeads + "x" + hd, kk, 1e-12);
                float scale = (float) (1 / Math.sqrt(hd));
                both(b -> b.attention(side(b, q), side(b, kk), side(b, v),
                        new AttentionLayout(heads, kvHeads, hd, scale, 0, side(b, st), start, side(b, st), start), side(b, o)));
                nmse("attention prefill", "d" + hd + " seqs 37,300,64,5 GQA 8/2", o, 1e-9);
                both(b -> b.attention(side(b, q), side(b, kk), side(b, v),
                        new AttentionLayout(heads, kvHeads, hd, scale, 16, side(b, st), start, side(b, st), start), side(b, o)));
                nmse("attention sliding window 16", "d" + hd, o, 1e-9);
                // decode after a cache: the last 4 queries of sequence 1 against all 128 of its keys
                int[] qs = {0, 4}, ks = {0, 128};
                try (Pair qst = ints(qs, 1, 2); Pair kst = ints(ks, 1, 2); Pair o2 = zeros(TensorType.F32, 4, heads * hd)) {
                    Tensor qr = q.r().rows(start[1] + 124, start[1] + 128), qd = q.d().rows(start[1] + 124, start[1] + 128);
                    ref.attention(qr, kk.r().rows(start[1], start[2]), v.r().rows(start[1], start[2]),
                            new AttentionLayout(heads, kvHeads, hd, scale, 0, qst.r(), qs, kst.r(), ks), o2.r());
                    dut.attention(qd, kk.d().rows(start[1], start[2]), v.d().rows(start[1], start[2]),
                            new AttentionLayout(heads, kvHeads, hd, scale, 0, qst.d(), qs, kst.d(), ks), o2.d());
                    nmse("attention decode after cache", "d" + hd + " 4 queries / 128 keys", o2, 1e-9);
                }
                both(b -> b.rope(side(b, q), heads, hd, hd, side(b, p), inv, 1.0f, true));
                nmse("rope interleaved", total + "x" + heads + "x" + hd, q, 1e-12);
                both(b -> b.rope(side(b, kk), kvHeads, hd, hd / 2, side(b, p), inv, 0.9f, true));
                nmse("rope interleaved partial + scale", total + "x" + kvHeads + "x" + hd, kk, 1e-12);
            }
        }
        attentionExtensions();
    }

    /**
     * The layouts of the newer families: sinks with a sliding window (GPT-OSS), chunks (Llama 4), value heads of their
     * own width at DeepSeek-V3's real (192/128) and a tiny fixture's (24/16) head widths (MLA), and a decode after a
     * cache with chunks and sinks.
     */
    private void attentionExtensions() {
        int seqs = 3;
        int[] lengths = {37, 70, 5};
        int total = Arrays.stream(lengths).sum();
        int[] start = new int[seqs + 1];
        for (int s = 0; s < seqs; s++) start[s + 1] = start[s] + lengths[s];
        record Shape(String name, int heads, int kvHeads, int dk, int dv, int window, int chunk, boolean sinks) {}
        List<Shape> shapes = List.of(
                new Shape("sinks + sliding window 16", 8, 2, 64, 64, 16, 0, true),
                new Shape("sinks, full", 8, 2, 64, 64, 0, 0, true),
                new Shape("chunked 32", 8, 2, 128, 128, 0, 32, false),
                new Shape("MLA 192/128", 8, 8, 192, 128, 0, 0, false),
                new Shape("MLA 24/16 chunk 8 + sinks", 4, 4, 24, 16, 0, 8, true),
                new Shape("head 16, window 8", 4, 2, 16, 16, 8, 0, false));
        for (Shape sh : shapes) {
            float scale = (float) (1 / Math.sqrt(sh.dk()));
            try (Pair q = pair(randn(total * sh.heads() * sh.dk(), 1), total, sh.heads() * sh.dk(), TensorType.F32);
                 Pair kk = pair(randn(total * sh.kvHeads() * sh.dk(), 1), total, sh.kvHeads() * sh.dk(), TensorType.F32);
                 Pair v = pair(randn(total * sh.kvHeads() * sh.dv(), 1), total, sh.kvHeads() * sh.dv(), TensorType.F32);
                 Pair sinks = sh.sinks() ? pair(randn(sh.heads(), 2), 1, sh.heads(), TensorType.F32) : null;
                 Pair st = ints(start, 1, seqs + 1); Pair o = zeros(TensorType.F32, total, sh.heads() * sh.dv())) {
                both(b -> b.attention(side(b, q), side(b, kk), side(b, v), new AttentionLayout(sh.heads(), sh.kvHeads(), sh.dk(), sh.dv(), scale,
                        sh.window(), sh.chunk(), sinks == null ? null : side(b, sinks), side(b, st), start, side(b, st), start), side(b, o)));
                nmse("attention " + sh.name(), "seqs 37,70,5 heads " + sh.heads() + "/" + sh.kvHeads(), o, 1e-9);
                // after a cache: the last 3 (a decode step) and the last 20 queries (a prefill continued; on the CPU
                // the blocked kernel, across a chunk boundary) of sequence 1 against its 70 keys
                for (int last : new int[]{3, 20}) {
                    int[] qs = {0, last}, ks = {0, 70};
                    try (Pair qst = ints(qs, 1, 2); Pair kst = ints(ks, 1, 2); Pair o2 = zeros(TensorType.F32, last, sh.heads() * sh.dv())) {
                        both(b -> b.attention(side(b, q).rows(start[1] + 70 - last, start[1] + 70), side(b, kk).rows(start[1], start[2]),
                                side(b, v).rows(start[1], start[2]), new AttentionLayout(sh.heads(), sh.kvHeads(), sh.dk(), sh.dv(), scale, sh.window(),
                                        sh.chunk(), sinks == null ? null : side(b, sinks), side(b, qst), qs, side(b, kst), ks), side(b, o2)));
                        nmse("attention " + sh.name() + ", " + last + " queries after cache", last + " queries / 70 keys", o2, 1e-9);
                    }
                }
            }
        }
    }

    private void routing() {
        int tokens = 1024;
        record Case(String name, int experts, RouterRule rule, boolean bias) {}
        List<Case> cases = List.of(
                new Case("softmax top-8 renorm", 128, RouterRule.softmaxTopK(8, true), false),
                new Case("softmax top-2", 8, RouterRule.softmaxTopK(2, false), false),
                new Case("sigmoid+bias grouped (host)", 256, RouterRule.sigmoidGroupedTopK(8, 8, 4, true, 2.5f), true),
                new Case("softmax 384 experts (host)", 384, RouterRule.softmaxTopK(8, true), false));
        for (Case c : cases) {
            int k = c.rule().topK();
            try (Pair logits = pair(randn(tokens * c.experts(), 2), tokens, c.experts(), TensorType.F32);
                 Pair bias = c.bias() ? pair(randn(c.experts(), 0.05), 1, c.experts(), TensorType.F32) : null;
                 Pair ids = zeros(TensorType.I32, tokens, k); Pair w = zeros(TensorType.F32, tokens, k)) {
                both(b -> b.routerTopk(side(b, logits), bias == null ? null : side(b, bias), c.rule(), side(b, ids), side(b, w)));
                exact("routerTopk ids " + c.name(), tokens + "x" + c.experts(), ref.downloadInts(ids.r()), dut.downloadInts(ids.d()));
                nmse("routerTopk weights " + c.name(), tokens + "x" + k, w, 1e-12);
            }
        }
    }

    private void statistics() {
        int rows = 700, cols = 256;
        float[] wts = randn(rows, 1);
        for (int i = 0; i < rows; i++) wts[i] = Math.abs(wts[i]);
        int[] index = rnd.ints(rows, 0, 900).toArray();
        int[] offsets = {0, 100, 100, 450, 700};
        try (Pair x = pair(randn(900 * cols, 1), 900, cols, TensorType.F32); Pair idx = ints(index, 1, rows);
             Pair w = pair(wts, 1, rows, TensorType.F32)) {
            Tensor hr = ref.allocate(ref.hessianType(), 4L * cols, cols, "h"), hd = dut.allocate(dut.hessianType(), 4L * cols, cols, "h");
            ref.gram(x.r(), idx.r(), w.r(), offsets, hr, 2f);
            dut.gram(x.d(), idx.d(), w.d(), offsets, hd, 2f);
            nmse("gram gather weighted, 4 groups", "700 rows of 900x256", ref.download(hr), dut.download(hd), 1e-10);
            hr.close();
            hd.close();
        }
        int vocab = 5000, n = 64;
        int[] targets = rnd.ints(n, -1, vocab).toArray();
        try (Pair lg = pair(randn(n * vocab, 3), n, vocab, TensorType.F32); Pair rf = pair(randn(n * vocab, 3), n, vocab, TensorType.F32);
             Pair tg = ints(targets, 1, n); Pair st = zeros(TensorType.F32, n, 4)) {
            both(b -> b.tokenStats(side(b, lg), side(b, tg), side(b, rf), side(b, st)));
            nmse("tokenStats (nll, kl, argmax)", n + "x" + vocab, st, 1e-10);
        }
    }
}
