package org.routecal.model;

/**
 * DeepSeek-V3 published as FP8 e4m3 with block weight_scale_inv (the deepseek_v3 fixture quantized by transformers'
 * Fp8Quantize): decoded on load, parity with transformers running the same checkpoint (tests/fixtures/models/deepseek_v3_fp8/v1).
 */
class DeepseekV3Fp8ParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "deepseek_v3_fp8"; }
}
