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
