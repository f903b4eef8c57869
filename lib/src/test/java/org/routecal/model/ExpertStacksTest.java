package org.routecal.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.routecal.compute.Backend;
import org.routecal.compute.Precision;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.compute.cpu.Backends;
import org.routecal.compute.cpu.CpuBackend;

/** The stack layout: sizes at the limit's edges, a short last stack, every expert's view at its own rows. */
public class ExpertStacksTest {
    /** A CPU backend whose expert stacks hold at most {@code bytes} (Long.MAX_VALUE: one stack per layer, as a GPU). */
    public static CpuBackend limited(long bytes) {
        return new CpuBackend(Backends.select(), Precision.FP32, "test: expert stacks of at most " + bytes + " bytes") {
            @Override public long expertStackBytes() { return bytes; }
        };
    }

    @Test
    void stacksAtTheLimitsEdges() {
        long expert = 6L * 4 * Float.BYTES; // [6, 4] floats
        assertEquals(1, ExpertStacks.of(limited(expert - 1), TensorType.F32, 7, 6, 4).perStack(), "an expert over the limit still gets a stack");
        assertEquals(1, ExpertStacks.of(limited(expert), TensorType.F32, 7, 6, 4).perStack());
        assertEquals(2, ExpertStacks.of(limited(3 * expert - 1), TensorType.F32, 7, 6, 4).perStack());
        assertEquals(4, ExpertStacks.of(limited(2 * expert), TensorType.BF16, 7, 6, 4).perStack(), "bf16 halves the bytes");
        assertEquals(7, ExpertStacks.of(limited(Long.MAX_VALUE), TensorType.F32, 7, 6, 4).perStack(), "no limit: one stack");
        ExpertStacks s = ExpertStacks.of(limited(3 * expert), TensorType.F32, 7, 6, 4);
        assertEquals(3, s.stacks());
        assertEquals(List.of(3, 3, 1), List.of(s.count(0), s.count(1), s.count(2)), "the last stack is short");
        assertEquals(2, s.stackOf(6));
        assertEquals(12, s.rowIn(5));
    }

    @Test
    void everyExpertsViewHoldsItsOwnRows() {
        try (Backend cpu = limited(3L * 6 * 4 * Float.BYTES)) {
            ExpertStacks s = ExpertStacks.of(cpu, TensorType.F32, 7, 6, 4);
            Tensor[] stacks = s.allocate(cpu, TensorType.F32, "test experts %d-%d");
            assertEquals("test experts 6-6", stacks[2].name());
            for (int e = 0; e < 7; e++) {
                float[] v = new float[24];
                java.util.Arrays.fill(v, e + 1);
                cpu.write(stacks[s.stackOf(e)], s.rowIn(e), v);
            }
            List<Tensor> views = s.views(stacks);
            for (int e = 0; e < 7; e++) {
                assertEquals(6, views.get(e).rowCount());
                for (float f : cpu.download(views.get(e))) assertEquals(e + 1, f, "expert " + e);
            }
        }
    }
}
