package org.routecal.compute.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The GPU parity run as a JUnit test: on a machine with a usable GPU every kernel must match the plain-loop reference
 * within its declared tolerance (see {@link GpuParity}). CPU-only CI skips it, with the probe's reason in the report.
 * On the GPU machine (no Maven there) the same checks run from the jar: GPU_PARITY=1 bash tests/gpu/run_gpu.sh setup parity.
 */
class CudaParityTest {
    @Test
    void kernelsMatchReference() {
        CudaAvailability.Probe p = CudaAvailability.probe();
        Assumptions.assumeTrue(p.available(), "skipped: no usable CUDA device (" + p.reason() + "); run GPU_PARITY=1 bash tests/gpu/run_gpu.sh setup parity on the GPU machine");
        try (CudaMoeOps ops = new CudaMoeOps(CudaContext.open(), true)) {
            List<GpuParity.Check> checks = GpuParity.run(ops, 1);
            String failed = checks.stream().filter(c -> !c.pass()).map(GpuParity.Check::toString).collect(Collectors.joining("\n"));
            assertTrue(failed.isEmpty(), "failed parity checks:\n" + failed);
        }
    }
}
