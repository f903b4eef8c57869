package org.routecal.model;

/** Mixtral: parity with HF transformers on tests/fixtures/models/mixtral/v1. */
class MixtralParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "mixtral"; }
}
