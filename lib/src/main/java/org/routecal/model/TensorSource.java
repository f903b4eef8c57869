package org.routecal.model;

import java.util.Set;

/**
 * Where weights come from: a memory-mapped checkpoint (plain, or quantized as published: FP8 blocks, MXFP4), a
 * compressed-tensors checkpoint, or a test's map. Names, shapes and {@link #readFloat} are the logical, decoded
 * tensors the forward pass reads (HF parameter names); {@link #storedForm} and {@link #readStored} give the encoded
 * parts as stored, for a backend that decodes on the device.
 */
public interface TensorSource extends AutoCloseable {
    Set<String> names();

    boolean contains(String name);

    /** Logical shape, e.g. [out, in] for a Linear weight (also when stored as FP8 blocks or MXFP4). */
    long[] shape(String name);

    /** How it is stored, for reports: a dtype name ("BF16", "F32", …) or the encoding ("FP8_BLOCK", "MXFP4", …). */
    String dtype(String name);

    /** All values as float32, decoded from whatever the stored encoding is. */
    float[] readFloat(String name);

    /**
     * Rows {@code [first, first + count)} of the leading dimension as float32 (for a 3-D expert stack: those experts),
     * decoded like {@link #readFloat}; a source that can read a part of a tensor reads only that part.
     */
    default float[] readFloatLeading(String name, int first, int count) {
        long[] shape = shape(name);
        long per = 1;
        for (int i = 1; i < shape.length; i++) per *= shape[i];
        return java.util.Arrays.copyOfRange(readFloat(name), Math.toIntExact(first * per), Math.toIntExact((first + count) * per));
    }

    /** How {@code name} is stored (default: as is, under its own name). */
    default StoredForm storedForm(String name) { return StoredForm.plain(name); }

    /** The little-endian bytes of one stored tensor (a part named by {@link #storedForm}). */
    default byte[] readStored(String storedName) {
        throw new UnsupportedOperationException(describe() + " keeps no stored bytes (decoded values only)");
    }

    /** Where the tensors live, for messages (a path). */
    String describe();

    @Override default void close() {}
}
