package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;

/** Reused arrays come back zeroed, only at their own length, and a closed tensor cannot reach its reused array. */
class FloatArrayPoolTest {
    private static final int N = FloatArrayPool.MIN_FLOATS + 3;

    @Test
    void aKeptArrayComesBackZeroedAtItsLengthOnly() {
        FloatArrayPool pool = new FloatArrayPool();
        float[] a = pool.zeroed(N);
        Arrays.fill(a, 7f);
        pool.give(a);
        assertEquals(4L * N, pool.heldBytes());
        assertNotSame(a, pool.zeroed(N + 1), "another length gets a fresh array");
        float[] b = pool.zeroed(N);
        assertSame(a, b, "the kept array is reused");
        for (float v : b) assertEquals(0f, v);
        assertEquals(0, pool.heldBytes());
        assertNotSame(a, pool.zeroed(N), "taken once, gone");
    }

    @Test
    void smallArraysAndSurplusAreLeftToTheCollector() {
        FloatArrayPool pool = new FloatArrayPool();
        pool.give(new float[FloatArrayPool.MIN_FLOATS - 1]);
        assertEquals(0, pool.heldBytes());
        for (int i = 0; i < FloatArrayPool.PER_LENGTH + 2; i++) pool.give(new float[N]);
        assertEquals(4L * N * FloatArrayPool.PER_LENGTH, pool.heldBytes());
    }

    @Test
    void bf16RoundedInputsReusedFromThePoolGiveTheSameProducts() {
        // at bf16 precision every product reads a bf16-rounded copy of x, now a pooled array: a second product over a
        // reused (stale) array must give the same bits, equal to fp32 on the rounded values
        int rows = 1024, in = 1024, out = 64; // x is MIN_FLOATS floats: pooled
        java.util.Random r = new java.util.Random(3);
        float[] xv = MatmulKernelsTest.gaussian(r, rows * in), wv = MatmulKernelsTest.gaussian(r, out * in), xr = xv.clone();
        for (int i = 0; i < xr.length; i++) xr[i] = CpuBackend.roundBf16(xr[i]);
        CpuBackend bf16 = new CpuBackend(Backends.select(), org.routecal.compute.Precision.BF16, "test"), fp32 = CpuBackend.fp32();
        Tensor w16 = bf16.prepareLinearWeights(bf16.upload(wv, out, in, TensorType.F32, "w"), out);
        Tensor w32 = fp32.prepareLinearWeights(fp32.upload(wv, out, in, TensorType.F32, "w"), out);
        Tensor want = fp32.allocate(TensorType.F32, rows, out, "want");
        fp32.linear(fp32.upload(xr, rows, in, TensorType.F32, "x rounded"), w32, null, want, false);
        float[] expected = fp32.download(want);
        for (int rep = 0; rep < 3; rep++) {
            float[] x2 = rep == 1 ? MatmulKernelsTest.gaussian(r, rows * in) : xv; // a different x between: the pool's array holds stale values
            Tensor y = bf16.allocate(TensorType.F32, rows, out, "y");
            bf16.linear(bf16.upload(x2, rows, in, TensorType.F32, "x"), w16, null, y, false);
            if (rep != 1) assertTrue(Arrays.equals(expected, bf16.download(y)), "product " + rep);
        }
    }

    @Test
    void theBackendReusesAClosedTensorsArrayAndTheClosedTensorFailsLoudly() {
        CpuBackend b = CpuBackend.fp32();
        Tensor t = b.allocate(TensorType.F32, N, 1, "activation");
        float[] ones = new float[N];
        Arrays.fill(ones, 1f);
        b.write(t, 0, ones);
        Tensor view = t.rows(0, 10);
        t.close();
        Tensor u = b.allocate(TensorType.F32, N, 1, "next activation");
        assertSame(t.storage(), u.storage(), "the array is reused");
        float[] got = b.download(u);
        for (float v : got) assertEquals(0f, v, "a reused array reads as zeros");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.download(view));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        view.close(); // a view releases nothing
        assertNotSame(u.storage(), b.allocate(TensorType.F32, N, 1, "third").storage());
    }
}
