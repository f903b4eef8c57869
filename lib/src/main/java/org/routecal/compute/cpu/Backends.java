package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import org.routecal.compute.Ops;

import java.util.logging.Logger;

/**
 * Chooses the CPU backend once, logs the choice and hands it down (STYLE H5): no static singleton in model code.
 * Overrides: {@code -Droutecal.backend=reference|vector}, {@code -Droutecal.vectorBits=0|128|256|512}
 * (0 = reference), {@code -Droutecal.threads=N}.
 */
public final class Backends {
    private static final Logger LOG = Logger.getLogger(Backends.class.getName());

    private Backends() {}

    public static Ops select() {
        String backend = System.getProperty("routecal.backend", "vector");
        int bits = Integer.getInteger("routecal.vectorBits", FloatVector.SPECIES_PREFERRED.vectorBitSize());
        int threads = CpuThreads.defaultThreads(); // physical cores unless -Droutecal.threads
        Ops ops;
        if ("reference".equals(backend) || bits == 0) {
            ops = new ReferenceOps();
        } else if ("vector".equals(backend)) {
            ops = new VectorOps(threads); // width fixed at class init from -Droutecal.vectorBits
        } else {
            throw new org.routecal.RoutecalException("unknown -Droutecal.backend=" + backend + " (valid: reference, vector)");
        }
        LOG.fine(() -> "CPU backend: " + ops.name());
        return ops;
    }
}
