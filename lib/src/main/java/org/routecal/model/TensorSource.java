package org.routecal.model;

import java.util.Set;

/** Where weights come from: a memory-mapped checkpoint, a quantized checkpoint dequantized, or a test's map. */
public interface TensorSource extends AutoCloseable {
    Set<String> names();

    boolean contains(String name);

    /** Shape as stored, e.g. [out, in] for a Linear weight. */
    long[] shape(String name);

    /** dtype name as stored ("BF16", "F32", …), for reports. */
    String dtype(String name);

    /** All values as float32 (dequantized where needed). */
    float[] readFloat(String name);

    /** Where the tensors live, for messages (a path). */
    String describe();

    @Override default void close() {}
}
