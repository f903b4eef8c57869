package org.routecal.quant.scheme;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.RoutecalException;
import org.routecal.quant.QuantizeOptions;

class QuantSchemesTest {

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 5, 6, 7, 8})
    void everyIntWidthParsesWithItsGrid(int bits) {
        IntScheme s = (IntScheme) QuantSchemes.parse("w" + bits + "a16", false, 64, false, ScaleDType.BF16);
        assertEquals(bits, s.bits());
        assertFalse(s.symmetric());
        assertEquals(64, s.groupSize());
        assertEquals(ScaleDType.BF16, s.scaleDtype());
        assertEquals("w" + bits + "a16", s.name());
        assertEquals(-(1 << (bits - 1)), s.qmin());
        assertEquals((1 << (bits - 1)) - 1, s.qmax());
    }

    @Test
    void floatSchemesAndOptions() {
        assertEquals(new Fp8Scheme(true, ScaleDType.F16), QuantSchemes.parse("FP8", true, 128, true, ScaleDType.F16));
        assertEquals(new Nvfp4Scheme(ScaleDType.BF16), QuantSchemes.parse("nvfp4", true, 128, false, ScaleDType.BF16));
        QuantizeOptions o = QuantizeOptions.defaults();
        assertEquals(new IntScheme(4, true, 128, ScaleDType.BF16), o.scheme(ScaleDType.BF16));
    }

    @Test
    void unknownIdsListTheValidOnes() {
        for (String bad : new String[]{"w9a16", "w1a16", "w4a8", "int4", "", "w03a16x"}) {
            RoutecalException e = assertThrows(RoutecalException.class, () -> QuantSchemes.parse(bad, true, 128, false, ScaleDType.BF16), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("w2a16") && e.getMessage().contains("w8a16") && e.getMessage().contains("nvfp4"), e.getMessage());
        }
        RoutecalException e = assertThrows(RoutecalException.class, () -> QuantSchemes.parse("w3a16", true, -1, false, ScaleDType.BF16));
        assertTrue(e.getMessage().contains("group size"), e.getMessage());
    }

    @Test
    void twoBitGridMatchesCompressedTensorsRule() {
        // 2 bits: range [-2, 1]; symmetric scale = absmax / 1.5; 0.75/0.5 = 1.5 is a tie → 2 (even) → clamped to 1
        IntScheme s = (IntScheme) QuantSchemes.parse("w2a16", true, 0, false, ScaleDType.F32);
        QuantizedWeight q = Rtn.quantize(s, new float[]{0.75f, -0.75f, 0.25f, 0.3f}, 1, 4);
        assertEquals(0.5f, q.params().scales()[0]);
        assertArrayEquals(new int[]{1, -2, 0, 1}, q.codes());
    }
}
