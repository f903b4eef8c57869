package org.routecal.quant.scheme;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;

/** Hand-worked grid values (compressed-tensors' rules: widened min/max, absmax/7.5, RNE, clamp). */
class SchemeGridTest {

    @Test
    void int4SymmetricScaleIsAbsmaxOver7point5AndRoundsHalfToEven() {
        IntScheme s = new IntScheme(4, true, 0, ScaleDType.F32);
        float[] w = {-1.5f, 0.3f, 0.75f, 3.75f, -3.75f, 0.25f, 1.25f, 0f}; // absmax 3.75 → scale 0.5
        QuantizedWeight q = Rtn.quantize(s, w, 1, 8);
        assertEquals(0.5f, q.params().scales()[0]);
        // -3, 0.6→1, 1.5→2 (even), 7.5→clamped 7, -7.5→-8 (even), 0.5→0 (even), 2.5→2 (even), 0
        assertArrayEquals(new int[]{-3, 1, 2, 7, -8, 0, 2, 0}, q.codes());
        assertNull(q.params().zeros());
        assertEquals(3.5f, q.dequantize()[3]);
    }

    @Test
    void int4AsymmetricZeroPoint() {
        IntScheme s = new IntScheme(4, false, 4, ScaleDType.F32);
        // group 0: min -1, max 3 → scale 4/15, zp = rint(-8 + 3.75) = -4; group 1: all positive → min widened to 0
        float[] w = {-1f, 3f, 0f, 1f, 0.5f, 1.5f, 2f, 3f};
        QuantizedWeight q = Rtn.quantize(s, w, 1, 8);
        assertEquals(4f / 15f, q.params().scales()[0]);
        assertEquals(-4, q.params().zeros()[0]);
        assertEquals(-8, q.params().zeros()[1]); // min 0 → zp = qmin
        float[] d = q.dequantize();
        assertEquals(0f, d[2]); // zero is exactly representable
        for (int i = 0; i < 8; i++) assertEquals(w[i], d[i], 0.5f * q.params().scales()[i / 4] + 1e-6f);
    }

    @Test
    void bf16ScalesAreRoundedAndDequantizationStaysOnTheBf16Grid() {
        IntScheme s = new IntScheme(4, true, 0, ScaleDType.BF16);
        float[] w = {1f, 0.1f, -0.37f, 0.9f};
        QuantizedWeight q = Rtn.quantize(s, w, 1, 4);
        float sc = q.params().scales()[0];
        assertEquals(FloatFormats.roundBf16(1f / 7.5f), sc);
        for (float v : q.dequantize()) assertEquals(v, FloatFormats.roundBf16(v));
    }

    @Test
    void groupSizeThatDoesNotDivideNamesTheModule() {
        IntScheme s = new IntScheme(4, true, 128, ScaleDType.F32);
        RoutecalException e = assertThrows(RoutecalException.class, () -> s.validate("model.layers.0.mlp.experts.3.down_proj", 8, 768 + 64));
        assertTrue(e.getMessage().contains("model.layers.0.mlp.experts.3.down_proj"), e.getMessage());
        assertTrue(e.getMessage().contains("128"));
    }

    @Test
    void e4m3AllBytesRoundTripAndTiesGoToEven() {
        for (int b = 0; b < 256; b++) {
            float v = FloatFormats.decodeE4m3(b);
            if (Float.isNaN(v)) continue;
            assertEquals(v, FloatFormats.roundE4m3(v));
            if (v != 0f) assertEquals(b, FloatFormats.encodeE4m3(v), "byte " + b);
        }
        assertEquals(448f, FloatFormats.decodeE4m3(0x7E));
        assertEquals(1f, FloatFormats.roundE4m3(1.0625f));   // tie between 1 and 1.125 → even mantissa
        assertEquals(1.25f, FloatFormats.roundE4m3(1.1875f)); // tie between 1.125 and 1.25 → 1.25
        assertEquals(0f, FloatFormats.roundE4m3(0.0009765625f)); // 2^-10: half of the smallest subnormal → 0
        assertEquals(0.00390625f, FloatFormats.roundE4m3(0.0029296875f)); // 1.5·2^-9 → 2·2^-9
    }

    @Test
    void e2m1RoundsLikeCastToFp4() {
        float[] in = {0.25f, 0.26f, 0.75f, 1.25f, 1.75f, 2.5f, 2.6f, 3.5f, 5f, 5.01f, -0.1f, -6f};
        float[] want = {0f, 0.5f, 1f, 1f, 2f, 2f, 3f, 4f, 4f, 6f, -0f, -6f};
        for (int i = 0; i < in.length; i++) assertEquals(want[i], FloatFormats.decodeE2m1(FloatFormats.encodeE2m1(in[i])), "x=" + in[i]);
        assertEquals(8, FloatFormats.encodeE2m1(-0.1f)); // sign bit kept on a negative zero
    }

    @Test
    void bf16RoundingTiesToEven() {
        assertEquals(1f, FloatFormats.roundBf16(1f + 0x1p-8f));
        assertEquals(1f + 0x1p-6f, FloatFormats.roundBf16(1f + 3 * 0x1p-8f));
        assertEquals(65504f, FloatFormats.roundF16(65504f));
        assertEquals(1f + 0x1p-10f, FloatFormats.roundF16(1f + 0x1p-10f + 0x1p-12f));
    }

    @Test
    void fp8PerChannelScaleAndErrorBound() {
        Random rnd = new Random(1);
        float[] w = new float[4 * 32];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        Fp8Scheme s = new Fp8Scheme(false, ScaleDType.F32);
        QuantizedWeight q = Rtn.quantize(s, w, 4, 32);
        float[] d = q.dequantize();
        for (int r = 0; r < 4; r++) {
            float amax = 0;
            for (int c = 0; c < 32; c++) amax = Math.max(amax, Math.abs(w[r * 32 + c]));
            assertEquals(amax / 448f, q.params().scales()[r]);
            for (int c = 0; c < 32; c++) {
                float x = w[r * 32 + c];
                // E4M3 keeps 3 mantissa bits: relative error ≤ 2^-4 for normals, absolute 2^-10·scale for subnormals
                assertEquals(x, d[r * 32 + c], Math.abs(x) / 16f + q.params().scales()[r] * 0x1p-10f + 1e-7f);
            }
        }
        QuantizedWeight t = Rtn.quantize(new Fp8Scheme(true, ScaleDType.F32), w, 4, 32);
        assertEquals(1, t.params().scales().length);
    }

    @Test
    void nvfp4SharedGlobalScaleAndGroupScales() {
        Random rnd = new Random(2);
        float[] gate = new float[2 * 32], up = new float[2 * 32];
        for (int i = 0; i < gate.length; i++) { gate[i] = (float) rnd.nextGaussian(); up[i] = 3f * (float) rnd.nextGaussian(); }
        float gs = Math.min(Nvfp4Scheme.globalScale(Nvfp4Scheme.amax(gate)), Nvfp4Scheme.globalScale(Nvfp4Scheme.amax(up)));
        Nvfp4Scheme s = new Nvfp4Scheme();
        QuantizedWeight qg = Rtn.quantize(s, gate, 2, 32, gs), qu = Rtn.quantize(s, up, 2, 32, gs);
        assertEquals(qg.params().globalScale(), qu.params().globalScale());
        assertEquals(2688f / Math.max(Nvfp4Scheme.amax(gate), Nvfp4Scheme.amax(up)), gs);
        for (float sc : qu.params().scales()) {
            assertTrue(sc <= 448f);
            assertEquals(sc, FloatFormats.roundE4m3(sc)); // on the FP8 grid
        }
        float[] d = qu.dequantize();
        for (int i = 0; i < up.length; i++) {
            float eff = qu.params().effectiveScale(i / 32, (i % 32) / 16);
            assertEquals(up[i], d[i], eff * 1.0f + 1e-6f); // E2M1 step ≤ 2 → error ≤ 1 step/2·… bounded by eff
        }
        assertEquals(1f, Nvfp4Scheme.globalScale(0f)); // all-zero tensor: 448·6/0 = inf → 1
    }
}
