package org.routecal.model;

/** Qwen3Moe: parity with HF transformers on tests/fixtures/models/qwen3_moe/v1. */
class Qwen3MoeParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "qwen3_moe"; }
}
