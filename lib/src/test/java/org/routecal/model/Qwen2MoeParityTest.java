package org.routecal.model;

/** Qwen2Moe: parity with HF transformers on tests/fixtures/models/qwen2_moe/v1. */
class Qwen2MoeParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "qwen2_moe"; }
}
