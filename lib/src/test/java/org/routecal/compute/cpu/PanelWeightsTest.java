package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.routecal.compute.Precision;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;

/**
 * Linear weights handed to the CPU backend ({@code prepareLinearWeights}) are packed in place into panels: products
 * over the whole stack and over each expert's view give the row-major result, views across panels fall back, and
 * every way of reading or writing the tensor (download, row views, write as an override does, copyRows, zero, the
 * embedding gather) sees row-major values, so no caller can tell the layout apart; float32 and bf16 (bf16 panels).
 */
class PanelWeightsTest {
    private final CpuBackend cpu = new CpuBackend(new VectorOps(2), Precision.FP32, "test");
    private static final int NR = PanelMatmul.NR;

    private static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    private static float[] reference(float[] x, int rows, int in, float[] w, int wOff, int out) {
        float[] y = new float[rows * out];
        ReferenceOps.matmulTransposed(x, 0, rows, in, w, wOff, out, null, y, 0, false);
        return y;
    }

    private float[] product(Tensor x, Tensor w) {
        try (Tensor y = cpu.allocate(TensorType.F32, x.rows(), w.rowCount(), "y")) {
            cpu.linear(x, w, null, y, false);
            return cpu.download(y);
        }
    }

    /** Values as a tensor of this type stores them (bf16: rounded), so expectations are exact. */
    private static float[] stored(float[] v, TensorType type) {
        if (type == TensorType.BF16) for (int i = 0; i < v.length; i++) v[i] = CpuBackend.roundBf16(v[i]);
        return v;
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class)
    void linearsOverOneInputGiveSeparateLinearsBits(Precision precision) {
        // q, k and v as one product (Backend.linears): each output the bits of its own linear, at fp32 and at bf16
        // precision (x rounded once), with biases; a weight that is a view across panels sends all of them the
        // separate way, with the same bits
        CpuBackend b = new CpuBackend(new VectorOps(2), precision, "test");
        Random r = new Random(11);
        int rows = 37, in = 96;
        int[] outs = {4 * NR, NR, NR};
        Tensor x = b.upload(gaussian(r, rows * in), rows, in, TensorType.F32, "x");
        Tensor[] w = new Tensor[3], bias = new Tensor[3];
        for (int i = 0; i < 3; i++) {
            w[i] = b.prepareLinearWeights(b.upload(gaussian(r, outs[i] * in), outs[i], in, i == 2 ? TensorType.BF16 : TensorType.F32, "w" + i), outs[i]);
            bias[i] = i == 1 ? null : b.upload(gaussian(r, outs[i]), 1, outs[i], TensorType.F32, "b" + i);
        }
        Tensor stack = b.prepareLinearWeights(b.upload(gaussian(r, 2 * NR * in), 2L * NR, in, TensorType.F32, "stack"), 2 * NR);
        Tensor[][] cases = {w, {w[0], stack.rows(3, 3 + NR), w[2]}};
        for (Tensor[] ws : cases) {
            Tensor[] out = new Tensor[3];
            for (int i = 0; i < 3; i++) out[i] = b.allocate(TensorType.F32, rows, ws[i].rowCount(), "out" + i);
            b.linears(x, ws, bias, out);
            for (int i = 0; i < 3; i++) {
                try (Tensor alone = b.allocate(TensorType.F32, rows, ws[i].rowCount(), "alone")) {
                    b.linear(x, ws[i], bias[i], alone, false);
                    assertArrayEquals(b.download(alone), b.download(out[i]), precision + ", output " + i + (ws == w ? "" : ", with a view across panels"));
                }
                out[i].close();
            }
        }
        assertThrows(IllegalArgumentException.class, () -> b.linears(x, w, new Tensor[2], new Tensor[3]));
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "BF16"})
    void expertViewsMultiplyAndReadRowMajor(TensorType type) {
        Random r = new Random(3);
        int experts = 3, segRows = 2 * NR, in = 70, rows = 13;
        float[] w = stored(gaussian(r, experts * segRows * in), type), x = gaussian(r, rows * in);
        Tensor stack = cpu.prepareLinearWeights(cpu.upload(w, (long) experts * segRows, in, type, "stack"), segRows);
        assertTrue(stack.storage() instanceof PanelWeights, "packed");
        Tensor xt = cpu.upload(x, rows, in, TensorType.F32, "x");
        assertArrayEquals(w, cpu.download(stack), "download is row-major");
        assertArrayEquals(java.util.Arrays.copyOfRange(w, 5 * in, 9 * in), cpu.download(stack.rows(5, 9)), "a row view reads row-major");
        for (int e = 0; e < experts; e++) {
            assertClose(reference(x, rows, in, w, e * segRows * in, segRows), product(xt, stack.rows((long) e * segRows, (long) (e + 1) * segRows)), "expert " + e);
        }
        assertClose(reference(x, rows, in, w, 5 * in, 40), product(xt, stack.rows(5, 45)), "a view across panels");
        // an override patches expert 1's rows; the next product and download see it
        float[] patch = stored(gaussian(r, segRows * in), type);
        cpu.write(stack, segRows, patch);
        System.arraycopy(patch, 0, w, segRows * in, patch.length);
        assertArrayEquals(w, cpu.download(stack), "download after the write");
        assertClose(reference(x, rows, in, w, segRows * in, segRows), product(xt, stack.rows(segRows, 2L * segRows)), "expert 1 after the write");
        // copyRows both ways, zero, the embedding gather
        Tensor plain = cpu.upload(new float[3 * in], 3, in, type, "plain");
        cpu.copyRows(stack, 7, plain, 0, 3);
        assertArrayEquals(java.util.Arrays.copyOfRange(w, 7 * in, 10 * in), cpu.download(plain), "copyRows out of panels");
        int to = 5 * NR / 2; // inside expert 1, not on a panel boundary
        cpu.copyRows(plain, 0, stack, to, 3);
        assertArrayEquals(java.util.Arrays.copyOfRange(w, 7 * in, 10 * in), cpu.download(stack.rows(to, to + 3)), "copyRows into panels");
        Tensor out = cpu.allocate(TensorType.F32, 2, in, "gathered");
        cpu.gatherRows(stack, cpu.uploadInts(new int[]{4, 6 * NR - 1}, 2, 1, "ids"), out);
        float[] g = cpu.download(out);
        assertArrayEquals(java.util.Arrays.copyOfRange(cpu.download(stack), 4 * in, 5 * in), java.util.Arrays.copyOfRange(g, 0, in), "gather row 4");
        assertArrayEquals(java.util.Arrays.copyOfRange(cpu.download(stack), (6 * NR - 1) * in, 6 * NR * in), java.util.Arrays.copyOfRange(g, in, 2 * in), "gather the last row");
        // a range with a partial panel on each side and whole panels between, written and read back
        long lo = NR - 3, hi = 3L * NR + 2;
        float[] mixed = stored(gaussian(r, (int) (hi - lo) * in), type);
        cpu.write(stack.rows(lo, hi), 0, mixed);
        assertArrayEquals(mixed, cpu.download(stack.rows(lo, hi)), "partial + whole panels written and read");
        assertArrayEquals(java.util.Arrays.copyOfRange(w, 0, (int) lo * in), cpu.download(stack.rows(0, lo)), "rows before the range kept");
        cpu.zero(stack.rows(0, NR));
        assertArrayEquals(new float[NR * in], cpu.download(stack.rows(0, NR)), "zeroed panel");
    }

    @Test
    void matricesThatAreNotWholePanelsStayRowMajor() {
        Tensor odd = cpu.upload(new float[(NR + 1) * 4], NR + 1, 4, TensorType.F32, "odd");
        assertSame(odd, cpu.prepareLinearWeights(odd, NR + 1));
        Tensor bf16 = cpu.upload(new float[(NR + 1) * 4], NR + 1, 4, TensorType.BF16, "bf16");
        assertSame(bf16, cpu.prepareLinearWeights(bf16, NR + 1));
    }

    @Test
    void rowMajorOpsRefuseThePanelLayoutLoudly() {
        Tensor w = cpu.prepareLinearWeights(cpu.upload(new float[NR * 8], NR, 8, TensorType.F32, "w"), NR);
        Tensor y = cpu.allocate(TensorType.F32, NR, 8, "y");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cpu.add(w, y));
        assertTrue(e.getMessage().contains("panel layout"), e.getMessage());
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += Math.pow(want[i] - got[i], 2);
            den += (double) want[i] * want[i];
        }
        assertTrue(num / den <= 1e-10, what + ": nmse " + num / den);
    }
}
