package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.model.ModelConfig;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.ScaleDType;

/** The up-front memory refusal at Qwen3-30B-A3B geometry (research/llmcompressor.md §2.4: ≈4.6 GB of fp32 expert Hessians per layer). */
class MemoryEstimateTest {
    static ModelConfig qwen3_30b() throws Exception {
        String json = """
                {"model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144, "moe_intermediate_size": 768,
                 "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128,
                 "num_experts": 128, "num_experts_per_tok": 8, "vocab_size": 151936, "rms_norm_eps": 1e-6,
                 "norm_topk_prob": true, "max_position_embeddings": 40960, "rope_theta": 1000000.0, "decoder_sparse_step": 1,
                 "mlp_only_layers": [], "tie_word_embeddings": false}""";
        return ModelConfig.parse(new ObjectMapper().readTree(json), "qwen3-30b-a3b config");
    }

    @Test
    void hybridGptqAtQwen3_30bNeedsTwoHessianPartsPerExpertAndIsRefusedUnder6GiB() throws Exception {
        ModelConfig c = qwen3_30b();
        QuantizeOptions hybrid = QuantizeOptions.defaults();
        long bytes = MemoryEstimate.bytes(c, 8192, hybrid);
        // 128 experts × 2 parts × (2048² + 768²) doubles ≈ 9.8 GB, plus attention, activations and one layer's
        // float32 weights held three times (model, working copy, dequantized override: 3 × 2.5 GB)
        assertTrue(bytes > 9.8e9 + 7e9 && bytes < 20e9, "estimate " + bytes);
        QuantizeOptions routedRtnFallback = new QuantizeOptions("w4a16", true, 128, false, true, hybrid.gptqArgs(), MoeMode.ROUTED, 0.5,
                32, false, true, null, false);
        assertEquals(128.0 * (2048 * 2048 + 768 * 768) * 8, bytes - MemoryEstimate.bytes(c, 8192, routedRtnFallback), 1e6,
                "routed mode with RTN fallback keeps one Hessian part per expert");
        if (Runtime.getRuntime().maxMemory() < bytes) {
            RoutecalException e = assertThrows(RoutecalException.class,
                    () -> MemoryEstimate.check(c, 8192, hybrid, new IntScheme(4, true, 128, ScaleDType.BF16)));
            assertTrue(e.getMessage().contains("GiB") && e.getMessage().contains("128 experts"), e.getMessage());
        }
    }
}
