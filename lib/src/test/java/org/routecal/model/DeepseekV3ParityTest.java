package org.routecal.model;

/** DeepSeek-V3: MLA with q LoRA, YaRN mscale, interleaved RoPE, grouped sigmoid routing, shared experts, a dense first layer. Parity with HF transformers on tests/fixtures/models/deepseek_v3/v1. */
class DeepseekV3ParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "deepseek_v3"; }
}
