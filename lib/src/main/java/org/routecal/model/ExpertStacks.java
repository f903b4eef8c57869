package org.routecal.model;

import java.util.ArrayList;
import java.util.List;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;

/**
 * Where each of a layer's experts (a [rows, cols] matrix each) sits when they are stacked: consecutive experts share
 * a stack of at most {@link Backend#expertStackBytes} (a GPU: one stack for the layer; the CPU: bounded stacks, since a
 * layer's stack can pass the JVM's array limit). Expert e is rows [rowIn(e), rowIn(e) + rows) of stack stackOf(e).
 */
public record ExpertStacks(int experts, long rows, int cols, int perStack) {

    public static ExpertStacks of(Backend backend, TensorType type, int experts, long rows, int cols) {
        long expertBytes = rows * cols * type.bytes();
        int perStack = (int) Math.max(1, Math.min(experts, backend.expertStackBytes() / expertBytes));
        return new ExpertStacks(experts, rows, cols, perStack);
    }

    public int stacks() { return (experts + perStack - 1) / perStack; }

    /** The first expert of stack s. */
    public int first(int s) { return s * perStack; }

    /** Experts in stack s. */
    public int count(int s) { return Math.min(perStack, experts - first(s)); }

    public int stackOf(int expert) { return expert / perStack; }

    /** The first row of the expert in its stack. */
    public long rowIn(int expert) { return (long) (expert % perStack) * rows; }

    /** Allocates the stacks (not filled); a failure closes what was allocated. */
    public Tensor[] allocate(Backend backend, TensorType type, String nameFormat) {
        Tensor[] out = new Tensor[stacks()];
        try {
            for (int s = 0; s < out.length; s++) {
                out[s] = backend.allocate(type, count(s) * rows, cols, String.format(nameFormat, first(s), first(s) + count(s) - 1));
            }
        } catch (RuntimeException | Error e) {
            for (Tensor t : out) if (t != null) t.close();
            throw e;
        }
        return out;
    }

    /** One view per expert into the stacks. */
    public List<Tensor> views(Tensor[] stacks) {
        List<Tensor> out = new ArrayList<>(experts);
        for (int e = 0; e < experts; e++) out.add(stacks[stackOf(e)].rows(rowIn(e), rowIn(e) + rows));
        return out;
    }
}
