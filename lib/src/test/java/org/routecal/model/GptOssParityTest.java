package org.routecal.model;

/** GPT-OSS: packed experts with interleaved gate/up and biases, clamped SwiGLU, sinks, sliding layers, router bias, untruncated YaRN. Parity with HF transformers on tests/fixtures/models/gpt_oss/v1. */
class GptOssParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "gpt_oss"; }
}
