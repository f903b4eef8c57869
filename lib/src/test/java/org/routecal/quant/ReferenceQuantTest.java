package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.quant.gptq.GptqResult;
import org.routecal.quant.gptq.GptqSolver;
import org.routecal.quant.scheme.Fp8Scheme;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

/**
 * Our grids and GPTQ against tests/make_quant_fixtures.py: compressed-tensors' own calculate_qparams / quantize /
 * fake_quantize for the grids (bit-exact), and the published GPTQ in PyTorch (codes agree on ≥ 99.9 % of weights,
 * layer-output error tr((W−Q)H(W−Q)ᵀ) within 1e-3 relative of the reference's).
 */
class ReferenceQuantTest {

    static QuantScheme schemeOf(JsonNode c) {
        return switch (c.get("scheme").asText()) {
            case "int" -> new IntScheme(c.get("bits").asInt(), c.get("symmetric").asBoolean(), c.get("group_size").asInt(),
                    c.has("scale_dtype") ? ScaleDType.parse(c.get("scale_dtype").asText()) : ScaleDType.F32);
            case "fp8" -> new Fp8Scheme(c.get("per_tensor").asBoolean(), ScaleDType.F32);
            case "nvfp4" -> new Nvfp4Scheme();
            default -> throw new IllegalArgumentException(c.toString());
        };
    }

    static float globalScale(JsonNode c) {
        JsonNode g = c.get("global_scale");
        return g == null || g.isNull() ? Float.NaN : (float) g.asDouble();
    }

    @TestFactory
    List<DynamicTest> rtnGridsMatchCompressedTensorsBitExactly() throws IOException {
        JsonNode all = FixtureTensors.cases();
        int rows = all.get("rows").asInt(), cols = all.get("cols").asInt();
        List<DynamicTest> tests = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = all.get("rtn").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
                FixtureTensors t = new FixtureTensors(FixtureTensors.DIR.resolve("rtn_" + e.getKey() + ".safetensors"));
                int r = (int) t.shape("w")[0];
                QuantizedWeight q = Rtn.quantize(schemeOf(e.getValue()), t.floats("w"), r, cols, globalScale(e.getValue()));
                assertArrayEquals(t.floats("scales"), q.params().scales(), "scales");
                if (t.has("zeros")) assertArrayEquals(t.ints("zeros"), q.params().zeros(), "zero points");
                assertArrayEquals(t.ints("codes"), q.codes(), "codes");
                assertValuesEqual(t.floats("q"), q.dequantize());
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> gptqAgreesWithReference() throws IOException {
        JsonNode all = FixtureTensors.cases();
        int cols = all.get("cols").asInt();
        List<DynamicTest> tests = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = all.get("gptq").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode c = e.getValue();
            tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
                FixtureTensors t = new FixtureTensors(FixtureTensors.DIR.resolve("gptq_" + e.getKey() + ".safetensors"));
                FixtureTensors hs = new FixtureTensors(FixtureTensors.DIR.resolve("hessians.safetensors"));
                float[] w = t.floats("w");
                int rows = w.length / cols;
                double[] h = hs.doubles(c.get("hessian").asText());
                GptqArgs args = new GptqArgs(128, 0.01, ActOrder.parse(c.get("actorder").asText()));
                GptqResult g = GptqSolver.quantize(e.getKey(), schemeOf(c), w, rows, cols, h, args, globalScale(c));
                assertEquals(c.get("fallback").asBoolean(), g.fallback());
                assertEquals(c.get("dead").size(), g.deadColumns());
                assertArrayEquals(t.floats("scales"), g.weight().params().scales(), "scales");
                if (t.has("g_idx")) assertArrayEquals(t.ints("g_idx"), g.weight().gIdx(), "g_idx");
                else assertNull(g.weight().gIdx());
                int[] want = t.ints("codes"), got = g.weight().codes();
                int same = 0;
                for (int i = 0; i < want.length; i++) if (want[i] == got[i]) same++;
                double agree = same / (double) want.length;
                StringBuilder diffs = new StringBuilder(); // row:col want/got of the first differences, for the message
                for (int i = 0; i < want.length && diffs.length() < 400; i++) {
                    if (want[i] != got[i]) diffs.append(i / cols).append(':').append(i % cols).append(' ').append(want[i]).append('/').append(got[i]).append(", ");
                }
                assertTrue(agree >= 0.999, "codes agree on " + agree + ": " + diffs);
                double ours = outputError(w, g.weight().dequantize(), h, rows, cols);
                double ref = c.get("output_error").asDouble();
                assertEquals(ref, ours, 1e-3 * ref, "layer output error");
                assertEquals(c.get("loss").asDouble(), g.loss(), 1e-3 * c.get("loss").asDouble(), "GPTQ loss");
            }));
        }
        return tests;
    }

    /** Equal as numbers (the reference's -0.0 from round(-0.3) and our code 0 → +0.0 are the same weight). */
    static void assertValuesEqual(float[] want, float[] got) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            if (!(want[i] == got[i])) fail("dequantized value " + i + ": expected " + want[i] + " but was " + got[i]);
        }
    }

    /** tr((W−Q)·H·(W−Q)ᵀ) in double. */
    static double outputError(float[] w, float[] q, double[] h, int rows, int cols) {
        double total = 0;
        double[] d = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < cols; i++) d[i] = (double) w[r * cols + i] - q[r * cols + i];
            for (int i = 0; i < cols; i++) {
                double s = 0;
                for (int j = 0; j < cols; j++) s += h[i * cols + j] * d[j];
                total += d[i] * s;
            }
        }
        return total;
    }
}
