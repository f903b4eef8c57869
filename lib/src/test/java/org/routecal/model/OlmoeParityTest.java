package org.routecal.model;

/** Olmoe: parity with HF transformers on tests/fixtures/models/olmoe/v1. */
class OlmoeParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "olmoe"; }
}
