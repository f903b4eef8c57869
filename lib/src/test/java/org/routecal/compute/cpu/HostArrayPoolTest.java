package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.routecal.compute.Precision;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;

/**
 * Reuse of large arrays: the pool hands back exactly the lengths it holds, zeroed when asked, within its budget; the
 * CPU backend recycles a closed tensor's array into the next tensor of that size (zero-filled, as allocate promises),
 * refuses a closed tensor in any op, and never recycles an array the panel packer has moved into Linear weights.
 */
class HostArrayPoolTest {
    private static final int N = HostArrayPool.MIN_FLOATS;

    @Test
    void exactLengthsWithinTheBudgetZeroedWhenAsked() {
        HostArrayPool pool = new HostArrayPool(4L * 3 * N);
        float[] a = new float[N], b = new float[2 * N], small = new float[N - 1];
        Arrays.fill(a, 7f);
        pool.give(a);
        pool.give(small);
        assertEquals(4L * N, pool.pooledBytes(), "arrays below MIN_FLOATS are not kept");
        assertNull(pool.take(N + 1, true), "no array of another length");
        float[] back = pool.take(N, true);
        assertSame(a, back);
        assertTrue(allZero(back), "zeroed");
        assertNull(pool.take(N, true), "each array handed out once");
        pool.give(b);
        pool.give(new float[2 * N]);
        assertEquals(4L * 2 * N, pool.pooledBytes(), "the second array would pass the budget: dropped");
        Arrays.fill(b, 3f);
        assertEquals(3f, pool.take(2 * N, false)[0], "not zeroed when not asked");
    }

    @Test
    void backendRecyclesClosedTensorsAndRefusesThemAfterwards() {
        CpuBackend cpu = new CpuBackend(new VectorOps(2), Precision.FP32, "test");
        Tensor t = cpu.allocate(TensorType.F32, N / 64, 64, "activations");
        float[] values = new float[N];
        Arrays.fill(values, 5f);
        cpu.write(t, 0, values);
        Object storage = t.storage();
        t.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cpu.download(t));
        assertTrue(e.getMessage().contains("after it was closed"), e.getMessage());
        Tensor again = cpu.allocate(TensorType.F32, 64, N / 64, "next");
        assertSame(storage, again.storage(), "the closed tensor's array is reused");
        assertTrue(allZero(cpu.download(again)), "a reused array reads as zeros");
        Tensor view = again.rows(0, 1);
        again.close();
        assertThrows(IllegalStateException.class, () -> cpu.download(view), "a view of a closed tensor is closed too");
    }

    @Test
    void arraysMovedIntoPanelsAreNeverRecycled() {
        CpuBackend cpu = new CpuBackend(new VectorOps(2), Precision.FP32, "test");
        int rows = PanelMatmul.NR * 64, cols = N / 64;
        Tensor source = cpu.allocate(TensorType.F32, rows, cols, "w");
        float[] array = (float[]) source.storage();
        Tensor packed = cpu.prepareLinearWeights(source, rows);
        assertNotSame(source, packed, "packed into panels");
        assertTrue(source.isClosed(), "the source is handed over");
        source.close(); // a no-op: must not give the array (now the panels' storage) to the pool
        Tensor next = cpu.allocate(TensorType.F32, rows, cols, "next");
        assertNotSame(array, next.storage());
        packed.close();
    }

    private static boolean allZero(float[] a) {
        for (float v : a) if (v != 0f) return false;
        return true;
    }
}
