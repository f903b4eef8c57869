package org.routecal.quant;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.quant.scheme.QuantScheme;

/** Lets tests in quant.gptq read the fixture cases the way {@link ReferenceQuantTest} does (one parser for them). */
public final class ReferenceQuantTestAccess {
    private ReferenceQuantTestAccess() {}

    public static QuantScheme schemeOf(JsonNode c) {
        return ReferenceQuantTest.schemeOf(c);
    }

    public static float globalScale(JsonNode c) {
        return ReferenceQuantTest.globalScale(c);
    }
}
