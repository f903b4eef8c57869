package org.routecal.compute.devices;

import org.routecal.compute.Backend;
import org.routecal.compute.Precision;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.routecal.compute.cpu.CpuBackend;
import org.routecal.compute.cpu.VectorOps;
import org.routecal.compute.cuda.CudaAvailability;

/**
 * Every backend op against the scalar reference backend (STYLE H4). The Vector API backend runs everywhere, in fp32 and
 * in bf16 emulation; the CUDA backend runs where a GPU is usable and is skipped with the probe's reason otherwise
 * (tests/gpu/run_gpu.sh runs the same checks from the jar on the GPU machine).
 */
class BackendParityTest {
    private static void assertAllPass(List<BackendParity.Check> checks) {
        String failed = checks.stream().filter(c -> !c.pass()).map(Object::toString).collect(Collectors.joining("\n"));
        assertTrue(failed.isEmpty(), "failed backend checks:\n" + failed);
        assertTrue(checks.size() > 30, "every op is covered: " + checks.size() + " checks");
    }

    @Test
    void vectorBackendMatchesReferenceInFp32() {
        try (Backend b = new CpuBackend(new VectorOps(2), Precision.FP32, "test")) {
            assertAllPass(new BackendParity(b, 3, true).run());
        }
    }

    @Test
    void vectorBackendMatchesReferenceInBf16() {
        try (Backend b = new CpuBackend(new VectorOps(2), Precision.BF16, "test")) {
            assertAllPass(new BackendParity(b, 4, true).run());
        }
    }

    @Test
    void cudaBackendMatchesReference() {
        CudaAvailability.Probe p = CudaAvailability.probe();
        Assumptions.assumeTrue(p.available(), "skipped: no usable CUDA device (" + p.reason() + "); tests/gpu/run_gpu.sh runs this on the GPU machine");
        for (String precision : List.of("fp32", "bf16")) {
            try (Backend b = Devices.open("cuda", precision, null)) {
                assertAllPass(new BackendParity(b, 5, false).run());
            }
        }
    }
}
