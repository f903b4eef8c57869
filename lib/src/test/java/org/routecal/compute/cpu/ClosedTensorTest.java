package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.routecal.compute.Precision;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;

/**
 * The CPU backend refuses a closed tensor (and views of it) in any op, with the tensor's name, and a tensor whose
 * array the panel packer reordered is handed over: it reads as closed, so its stale row-major view is never used.
 */
class ClosedTensorTest {
    private final CpuBackend cpu = new CpuBackend(new VectorOps(2), Precision.FP32, "test");

    @Test
    void closedTensorsAndTheirViewsAreRefused() {
        Tensor t = cpu.allocate(TensorType.F32, 8, 16, "activations");
        Tensor view = t.rows(2, 4);
        Tensor out = cpu.allocate(TensorType.F32, 8, 16, "out");
        t.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cpu.download(t));
        assertTrue(e.getMessage().contains("activations") && e.getMessage().contains("after it was closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> cpu.download(view), "a view of a closed tensor is closed too");
        assertThrows(IllegalStateException.class, () -> cpu.siluMul(cpu.allocate(TensorType.F32, 8, 32, "gu"), t));
        cpu.download(out); // others are untouched
    }

    @Test
    void theSourceOfPackedPanelsIsHandedOver() {
        int rows = PanelMatmul.NR * 4, cols = 64;
        Tensor source = cpu.allocate(TensorType.F32, rows, cols, "w");
        Tensor packed = cpu.prepareLinearWeights(source, rows);
        assertNotSame(source, packed, "packed into panels");
        assertTrue(source.isClosed(), "the source is handed over");
        assertThrows(IllegalStateException.class, () -> cpu.download(source), "its array is in panel order now");
        source.close(); // a no-op
        cpu.download(packed);
        assertThrows(IllegalStateException.class, () -> source.rows(0, 1).handOver(), "a view cannot hand over");
    }
}
