package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.model.family.ModelConfig;
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
    void estimateIsBoundedByOneLayerAndOneExpertAndGrowsWithCalibrationTokens() throws Exception {
        ModelConfig c = qwen3_30b();
        QuantizeOptions hybrid = QuantizeOptions.defaults();
        long cpu = MemoryEstimate.bytes(c, 1782, hybrid, true);
        // one layer's fp32 expert weights alone are 128 × 3 × 2048 × 768 × 4 B = 2.4 GB: the floor
        assertTrue(cpu > 2.4e9, "estimate " + cpu);
        // experts are solved one at a time: no term scales with experts × Hessian size (that was 9.8 GB for hybrid)
        assertTrue(cpu < 6e9, "the 2-layer, 1782-token quantize must fit a 6 GB heap; estimate " + cpu);
        assertTrue(MemoryEstimate.bytes(c, 100_000, hybrid, true) > cpu, "activations scale with calibration tokens");
        long device = MemoryEstimate.bytes(c, 1782, hybrid, false);
        assertTrue(device < cpu, "bf16 weights and float Hessians on a device");
    }

    @Test
    void checkRefusesWithTheEstimateWhenTheBackendIsTooSmall() throws Exception {
        ModelConfig c = qwen3_30b();
        org.routecal.compute.Backend tiny = new org.routecal.compute.cpu.CpuBackend(new org.routecal.compute.cpu.ReferenceOps(),
                org.routecal.compute.Precision.FP32, "test") {
            @Override public long memoryAvailable() { return 1L << 30; }
        };
        RoutecalException e = assertThrows(RoutecalException.class, () -> MemoryEstimate.check(c, 1782, QuantizeOptions.defaults(), tiny));
        assertTrue(e.getMessage().contains("GiB") && e.getMessage().contains("1782 calibration tokens"), e.getMessage());
    }
}
