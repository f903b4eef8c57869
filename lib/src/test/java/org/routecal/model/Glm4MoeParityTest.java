package org.routecal.model;

/** GLM-4.5: partial RoPE, q/k norm, q/k/v bias, grouped sigmoid routing, shared experts, a dense first layer. Parity with HF transformers on tests/fixtures/models/glm4_moe/v1. */
class Glm4MoeParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "glm4_moe"; }
}
