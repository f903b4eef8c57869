package org.routecal.model;

/**
 * MLA's other branches against transformers (tests/fixtures/models/deepseek_v3_no_q_lora/v1, DeepSeek-V2-Lite's
 * layout on the V3 code): q_proj instead of the q LoRA, rotate-half RoPE (rope_interleave false), default RoPE (no YaRN
 * mscale), biases on kv_a_proj_with_mqa and o_proj.
 */
class DeepseekV3NoQLoraParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "deepseek_v3_no_q_lora"; }
}
