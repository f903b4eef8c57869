package org.routecal.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.routecal.compute.TensorType;

/** The load-time NaN/Inf scan of raw checkpoint bytes (vector body, scalar tail, chunk edges) against Float.isFinite. */
class AllFiniteTest {
    @Test
    void findsEveryNonFiniteBf16AndF32Value() {
        int n = (1 << 16) + 37; // past one chunk, with a tail
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (TensorType t : new TensorType[]{TensorType.BF16, TensorType.F32}) {
            ByteBuffer clean = values(n, t, -1, 0f);
            assertEquals(true, ModelWeights.allFinite(clean, t), t + " finite values (max finite, −0, subnormals)");
            for (int at : new int[]{0, 17, 65535, 65536, n - 1}) {
                for (float bad : specials) {
                    assertEquals(false, ModelWeights.allFinite(values(n, t, at, bad), t), t + " " + bad + " at " + at);
                }
            }
        }
    }

    /** n little-endian values of type t: a spread of finite values, and {@code bad} at index {@code at} (if ≥ 0). */
    private static ByteBuffer values(int n, TensorType t, int at, float bad) {
        ByteBuffer b = ByteBuffer.allocate(n * t.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        float[] finite = {0f, -0f, 1f, -2.5f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, 3.4e38f};
        for (int i = 0; i < n; i++) {
            float v = i == at ? bad : finite[i % finite.length];
            if (t == TensorType.F32) b.putFloat(v);
            else b.putShort((short) (Float.floatToRawIntBits(v) >>> 16)); // truncation keeps finite values finite (MAX_VALUE → 0x7f7f)
        }
        return b.flip();
    }
}
