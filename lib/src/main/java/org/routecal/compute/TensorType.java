package org.routecal.compute;

/** Element types of backend tensors. Activations are F32; weights F32 or BF16 (as stored); indices I32;
 * Hessians F32 on a device and F64 on the CPU reference. */
public enum TensorType {
    F32(4), BF16(2), I32(4),
    /** Host-only accumulators (the CPU backend's Hessians, for a bit-exact reference); never on a device. */
    F64(8);

    private final int bytes;

    TensorType(int bytes) { this.bytes = bytes; }

    public int bytes() { return bytes; }
}
