package org.routecal.quant.ct;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Test access to the writer's package-private config step. */
public final class CompressedTensorsWriterAccess {
    private CompressedTensorsWriterAccess() {}

    public static void addExportDefaults(ObjectNode cfg) { CompressedTensorsWriter.addExportDefaults(cfg); }
}
