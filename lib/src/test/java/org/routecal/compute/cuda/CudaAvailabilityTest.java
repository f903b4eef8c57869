package org.routecal.compute.cuda;

import org.routecal.compute.cuda.ref.MoeOps;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.compute.cuda.ref.ReferenceMoeOps;

/** The probe and --device resolution behave as documented on this machine, GPU or not. */
class CudaAvailabilityTest {
    @AfterEach
    void clearOverride() { System.clearProperty(DeviceChoice.PROPERTY); }

    private static boolean driverLibraryPresent() {
        return Stream.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1",
                "/usr/local/nvidia/lib64/libcuda.so.1").anyMatch(p -> Files.exists(Path.of(p)));
    }

    @Test
    void probeExplainsItself() {
        CudaAvailability.Probe p = CudaAvailability.probe();
        if (p.available()) {
            assertTrue(p.ccMajor() >= CudaAvailability.MIN_MAJOR, p.describe());
            assertFalse(p.deviceName().isBlank());
        } else {
            assertFalse(p.reason().isBlank());
            if (!driverLibraryPresent()) assertTrue(p.reason().contains("libcuda.so.1"), p.reason());
        }
        assertEquals(p, CudaAvailability.probe(), "probe result is cached");
    }

    @Test
    void deviceResolutionFollowsTheProbe() {
        CudaAvailability.Probe p = CudaAvailability.probe();
        assertFalse(DeviceChoice.CPU.resolve().cuda());
        DeviceChoice.Resolved auto = DeviceChoice.AUTO.resolve();
        assertEquals(p.available(), auto.cuda());
        if (!p.available()) {
            assertTrue(auto.message().contains(p.reason()), auto.message());
            RoutecalException e = assertThrows(RoutecalException.class, DeviceChoice.CUDA::resolve);
            assertTrue(e.getMessage().startsWith("--device cuda") && e.getMessage().contains(p.reason()), e.getMessage());
            try (MoeOps ops = DeviceChoice.open(auto)) {
                assertTrue(ops instanceof ReferenceMoeOps);
            }
        }
    }

    @Test
    void systemPropertyOverridesTheFlag() {
        System.setProperty(DeviceChoice.PROPERTY, "cpu");
        DeviceChoice.Resolved r = DeviceChoice.CUDA.resolve();
        assertFalse(r.cuda());
        assertTrue(r.message().contains("-Droutecal.device"), r.message());
    }

    @Test
    void unknownDeviceIsAUserError() {
        RoutecalException e = assertThrows(RoutecalException.class, () -> DeviceChoice.parse("tpu"));
        assertTrue(e.getMessage().contains("cpu, cuda or auto"), e.getMessage());
    }
}
