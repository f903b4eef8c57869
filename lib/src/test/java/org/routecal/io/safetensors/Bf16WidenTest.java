package org.routecal.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The vectorised bf16 → f32 widening equals the scalar definition for every one of the 65,536 bit patterns. */
class Bf16WidenTest {
    @Test
    void everyBitPatternWidensExactly() {
        int n = 65536 + 13; // a tail past the vector loop
        short[] s = new short[n];
        for (int i = 0; i < n; i++) s[i] = (short) i;
        float[] got = new float[n + 3];
        DTypeCodec.widenBf16(s, n, got, 3);
        for (int i = 0; i < n; i++) {
            assertEquals(((i & 0xFFFF) << 16), Float.floatToRawIntBits(got[3 + i]), "bits 0x" + Integer.toHexString(i & 0xFFFF));
        }
    }
}
