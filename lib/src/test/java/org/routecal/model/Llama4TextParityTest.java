package org.routecal.model;

/** Llama 4 text: routing weight on the expert input, shared expert, dense/MoE interleave, chunked and NoPE layers with temperature, L2 q/k norm, interleaved RoPE, packed experts. Parity with HF transformers on tests/fixtures/models/llama4_text/v1. */
class Llama4TextParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "llama4_text"; }
}
