package org.routecal.quant.alloc;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.routecal.quant.FixtureTensors;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.quant.gptq.GptqResult;
import org.routecal.quant.gptq.GptqSolver;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.ScaleDType;

/**
 * The sensitivity of a width, tr(ΔW·H·ΔWᵀ), measured directly and read off GPTQ's loss, on the reference GPTQ fixtures
 * of every int width (tests/make_quant_fixtures.py stores PyTorch's own tr(ΔW·H·ΔWᵀ) as output_error).
 */
class ExpertSensitivityTest {

    @Test
    void gptqLossGivesTheOutputErrorAtEveryWidth() throws IOException {
        JsonNode all = FixtureTensors.cases();
        int cols = all.get("cols").asInt(), checked = 0;
        FixtureTensors hs = new FixtureTensors(FixtureTensors.DIR.resolve("hessians.safetensors"));
        for (Iterator<Map.Entry<String, JsonNode>> it = all.get("gptq").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode c = e.getValue();
            if (!c.get("scheme").asText().equals("int")) continue;
            FixtureTensors t = new FixtureTensors(FixtureTensors.DIR.resolve("gptq_" + e.getKey() + ".safetensors"));
            float[] w = t.floats("w");
            int rows = w.length / cols;
            double[] h = hs.doubles(c.get("hessian").asText());
            IntScheme s = new IntScheme(c.get("bits").asInt(), c.get("symmetric").asBoolean(), c.get("group_size").asInt(),
                    c.has("scale_dtype") ? ScaleDType.parse(c.get("scale_dtype").asText()) : ScaleDType.F32);
            GptqArgs args = new GptqArgs(128, 0.01, ActOrder.parse(c.get("actorder").asText()));
            GptqResult g = GptqSolver.quantize(e.getKey(), s, w, rows, cols, h, args, Float.NaN);
            double direct = ExpertSensitivity.outputError(w, g.weight().dequantize(), h, rows, cols);
            double fromLoss = ExpertSensitivity.fromGptqLoss(g, w, h, rows, cols, 0.01);
            double ref = c.get("output_error").asDouble();
            assertEquals(direct, fromLoss, 1e-5 * direct, e.getKey() + ": 2·loss − λ‖ΔW‖² vs tr(ΔW·H·ΔWᵀ)");
            assertEquals(ref, direct, 1e-3 * ref, e.getKey() + ": against PyTorch");
            checked++;
        }
        assertTrue(checked >= 14, "int GPTQ cases checked: " + checked);
    }
}
