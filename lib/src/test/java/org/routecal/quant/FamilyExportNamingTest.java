package org.routecal.quant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.routecal.model.CheckpointSource;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.PackedExperts;
import org.routecal.model.family.Families;
import org.routecal.quant.ct.CompressedTensorsWriterAccess;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14 item 6: what each new family exports under which name, and what stays unquantized, as vLLM's loaders
 * expect them (deepseek_v2.py, gpt_oss.py, glm4_moe.py, llama4.py: routers built with quant_config=None; MLA's
 * fused_qkv_a_proj and absorbed kv_b_proj; packed experts loaded from per-expert gate_proj/up_proj/down_proj).
 */
class FamilyExportNamingTest {
    static Path fixture(String f) { return Path.of("..", "tests", "fixtures", "models", f, "v1"); }

    private static List<String> modules(String family, int layer) {
        return LinearModules.ofLayer(ModelConfig.load(fixture(family)), layer).stream().map(LinearModules.Module::module).toList();
    }

    @Test
    void deepSeekIgnoresRouterMlaSmallProjectionsAndLmHeadButQuantizesQbOExpertsAndShared() {
        IgnoreRules r = IgnoreRules.of(IgnoreRules.familyDefaults(Families.DEEPSEEK_V3));
        List<String> layer1 = modules("deepseek_v3", 1);
        Set<String> ignored = layer1.stream().filter(r::ignores).collect(Collectors.toSet());
        assertEquals(Set.of("model.layers.1.mlp.gate", "model.layers.1.self_attn.q_a_proj", "model.layers.1.self_attn.kv_a_proj_with_mqa",
                "model.layers.1.self_attn.kv_b_proj"), ignored);
        assertTrue(layer1.containsAll(List.of("model.layers.1.self_attn.q_b_proj", "model.layers.1.self_attn.o_proj",
                "model.layers.1.mlp.experts.7.down_proj", "model.layers.1.mlp.shared_experts.gate_proj")));
        assertTrue(r.ignores("lm_head"));
        // every module listed is a Linear of the checkpoint, with its weight there
        try (CheckpointSource src = CheckpointSource.open(fixture("deepseek_v3"))) {
            for (int l = 0; l < 3; l++) for (String m : modules("deepseek_v3", l)) assertTrue(src.contains(m + ".weight"), m);
        }
    }

    @Test
    void mlaProjectionsFusedByVllmShareAHessianAndAGlobalScale() {
        var mods = LinearModules.ofLayer(ModelConfig.load(fixture("deepseek_v3")), 0);
        var qa = mods.stream().filter(m -> m.module().endsWith("q_a_proj")).findFirst().orElseThrow();
        var kva = mods.stream().filter(m -> m.module().endsWith("kv_a_proj_with_mqa")).findFirst().orElseThrow();
        assertEquals(qa.hessianKey(), kva.hessianKey());
        assertEquals(qa.fusedKey(), kva.fusedKey());
    }

    @Test
    void packedFamiliesExportPerExpertLinearsAndIgnoreTheirRouters() {
        IgnoreRules oss = IgnoreRules.of(IgnoreRules.familyDefaults(Families.GPT_OSS));
        List<String> ossLayer = modules("gpt_oss", 1);
        assertTrue(ossLayer.containsAll(List.of("model.layers.1.mlp.experts.0.gate_proj", "model.layers.1.mlp.experts.0.up_proj",
                "model.layers.1.mlp.experts.7.down_proj", "model.layers.1.self_attn.q_proj")), ossLayer.toString());
        assertEquals(List.of("model.layers.1.mlp.router"), ossLayer.stream().filter(oss::ignores).toList());
        IgnoreRules l4 = IgnoreRules.of(IgnoreRules.familyDefaults(Families.LLAMA4_TEXT));
        List<String> moe = modules("llama4_text", 1), dense = modules("llama4_text", 0);
        assertEquals(List.of("model.layers.1.feed_forward.router"), moe.stream().filter(l4::ignores).toList());
        assertTrue(moe.containsAll(List.of("model.layers.1.feed_forward.experts.3.up_proj", "model.layers.1.feed_forward.shared_expert.down_proj")));
        assertTrue(dense.contains("model.layers.0.feed_forward.gate_proj"));
        IgnoreRules glm = IgnoreRules.of(IgnoreRules.familyDefaults(Families.GLM4_MOE));
        assertEquals(List.of("model.layers.1.mlp.gate"), modules("glm4_moe", 1).stream().filter(glm::ignores).toList());
    }

    /** The per-expert Linear of a packed family gives transformers' outputs: x @ gate_up_proj[e] (+ bias), gate = [..., ::2]. */
    @Test
    void packedExpertSlicesAreTheLinearsTransformersComputes() {
        for (String family : List.of("gpt_oss", "llama4_text")) {
            ModelConfig c = ModelConfig.load(fixture(family));
            int layer = family.equals("gpt_oss") ? 0 : 1, e = 5, h = c.hiddenSize(), i = c.expertIntermediateSize();
            try (CheckpointSource src = CheckpointSource.open(fixture(family))) {
                float[] gateUp = src.readFloat(c.family().tensors().expertGateUp().replace("{layer}", "" + layer));  // [E, H, 2I]
                float[] x = new float[h];
                Random rnd = new Random(1);
                for (int k = 0; k < h; k++) x[k] = (float) rnd.nextGaussian();
                double[] fused = new double[2 * i];                   // x @ gate_up_proj[e]
                for (int k = 0; k < h; k++) for (int j = 0; j < 2 * i; j++) fused[j] += x[k] * gateUp[(e * h + k) * 2 * i + j];
                PackedExperts p = PackedExperts.of(c, src, layer);
                float[] gate = p.weight(e, PackedExperts.Projection.GATE), up = p.weight(e, PackedExperts.Projection.UP);
                boolean interleaved = family.equals("gpt_oss");   // GptOssExperts: gate_up[..., ::2]; Llama4TextExperts: chunk(2)
                for (int r = 0; r < i; r++) {
                    double g = 0, u = 0;
                    for (int k = 0; k < h; k++) { g += gate[r * h + k] * x[k]; u += up[r * h + k] * x[k]; }
                    assertEquals(fused[interleaved ? 2 * r : r], g, 1e-9, family + " gate row " + r);
                    assertEquals(fused[interleaved ? 2 * r + 1 : i + r], u, 1e-9, family + " up row " + r);
                }
                if (interleaved) {
                    float[] b = src.readFloat("model.layers.0.mlp.experts.gate_up_proj_bias");
                    assertEquals(b[e * 2 * i + 3], p.bias(e, PackedExperts.Projection.UP)[1]);
                } else {
                    assertEquals(null, p.bias(e, PackedExperts.Projection.GATE));
                }
            }
        }
    }

    @Test
    void exportedDeepSeekConfigCarriesTheKeysVllmReads() throws Exception {
        ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(fixture("deepseek_v3").resolve("config.json").toFile());
        assertFalse(cfg.has("topk_method"));
        CompressedTensorsWriterAccess.addExportDefaults(cfg);
        assertEquals("noaux_tc", cfg.get("topk_method").asText());
        assertEquals("sigmoid", cfg.get("scoring_func").asText());
        ObjectNode kept = cfg.deepCopy().put("scoring_func", "softmax");
        CompressedTensorsWriterAccess.addExportDefaults(kept);
        assertEquals("softmax", kept.get("scoring_func").asText(), "a value the source has is kept");
        ObjectNode qwen = (ObjectNode) new ObjectMapper().readTree(fixture("qwen3_moe").resolve("config.json").toFile());
        ObjectNode before = qwen.deepCopy();
        CompressedTensorsWriterAccess.addExportDefaults(qwen);
        assertEquals(before, qwen);
    }
}
