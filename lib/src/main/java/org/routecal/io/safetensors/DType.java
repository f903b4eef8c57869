package org.routecal.io.safetensors;

import org.routecal.RoutecalException;

/**
 * Element types of a safetensors tensor, named as in the safetensors header ("BF16", "F8_E4M3" …).
 * Only the types our models and compressed-tensors checkpoints use; anything else is rejected with a
 * message naming the file and the tensor, so a checkpoint we cannot read fails at open, not mid-run.
 */
public enum DType {
    BF16(2), F16(2), F32(4), F8_E4M3(1), I8(1), I32(4), I64(8), U8(1);

    private final int byteSize;

    DType(int byteSize) { this.byteSize = byteSize; }

    /** Bytes per element. */
    public int byteSize() { return byteSize; }

    /** True for the floating-point types that {@link DTypeCodec} decodes to f32. */
    public boolean isFloat() { return this == BF16 || this == F16 || this == F32 || this == F8_E4M3; }

    /** The name written in a safetensors header. */
    public String safetensorsName() { return name(); }

    /** Parses a safetensors dtype name; unknown names throw with the list of supported ones. */
    public static DType parse(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) return t;
        }
        throw new RoutecalException("unsupported safetensors dtype '" + name + "' (supported: BF16, F16, F32, F8_E4M3, I8, I32, I64, U8)");
    }

    /** As {@link #parse(String)}, with the file and tensor named in the error. */
    public static DType parse(String name, String file, String tensor) {
        try {
            return parse(name);
        } catch (RoutecalException e) {
            throw new RoutecalException(file + ": tensor '" + tensor + "': " + e.getMessage());
        }
    }
}
