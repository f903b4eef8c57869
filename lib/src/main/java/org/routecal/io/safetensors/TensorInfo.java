package org.routecal.io.safetensors;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a checkpoint as its header describes it.
 *
 * @param name       the HF weight name, e.g. {@code model.layers.3.mlp.experts.5.down_proj.weight}
 * @param dtype      element type
 * @param shape      dimensions, outermost first (row-major); empty for a scalar
 * @param file       the .safetensors file holding it
 * @param dataOffset absolute byte offset of its first element in {@code file}
 * @param byteLength bytes of data (= elementCount × dtype size, checked at open)
 */
public record TensorInfo(String name, DType dtype, long[] shape, Path file, long dataOffset, long byteLength) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    /** Dimension {@code i} of the shape. */
    public long dim(int i) { return shape[i]; }

    /** Product of the shape (1 for a scalar); throws on overflow of a long. */
    public long elementCount() { return elementCount(shape); }

    /** Elements per row of the first dimension (product of shape[1..]); 1 for rank ≤ 1. */
    public long rowElements() {
        long n = 1;
        for (int i = 1; i < shape.length; i++) n = Math.multiplyExact(n, shape[i]);
        return n;
    }

    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @" + file.getFileName() + ":" + dataOffset;
    }
}
