package org.routecal.compute.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;

/** --devices: parsing, and a group of logical CPU devices (one thread and one backend each). */
class DeviceGroupTest {
    @Test
    void devicesListParsesAndRefusesClearly() {
        assertEquals(List.of(0), DeviceList.parse(null, 8));
        assertEquals(List.of(0, 1, 2, 3), DeviceList.parse("auto", 4));
        assertEquals(List.of(0), DeviceList.parse("auto", 0), "auto on the CPU: one device");
        assertEquals(List.of(2, 3), DeviceList.parse(" 2, 3 ", 4));
        assertEquals(List.of(0, 0), DeviceList.parse("0,0", 1), "logical devices on one GPU");
        assertEquals(List.of(0, 1, 2), DeviceList.parse("0,1,2", 0), "logical CPU devices");
        assertEquals(2, DeviceList.primary("2,3"));
        assertEquals(0, DeviceList.primary("auto"));
        RoutecalException e = assertThrows(RoutecalException.class, () -> DeviceList.parse("0,4", 4));
        assertTrue(e.getMessage().contains("no CUDA device 4") && e.getMessage().contains("0..3"), e.getMessage());
        e = assertThrows(RoutecalException.class, () -> DeviceList.parse("0,x", 4));
        assertTrue(e.getMessage().contains("\"x\""), e.getMessage());
        assertThrows(RoutecalException.class, () -> DeviceList.parse("-1", 0));
        assertThrows(RoutecalException.class, () -> DeviceList.parse("0,,1", 0));
    }

    @Test
    void eachDeviceRunsOnItsOwnThreadAtTheSameTimeAndTheGroupClosesOnlyWhatItOpened() throws Exception {
        Backend primary = Devices.cpu();
        DeviceOptions o = new DeviceOptions();
        o.device = "cpu";
        o.devices = "0,1,2";
        Backend second;
        try (DeviceGroup g = DeviceGroup.open(primary, o)) {
            assertEquals(3, g.size());
            assertSame(primary, g.backend(0));
            assertNotSame(g.backend(1), g.backend(2));
            assertEquals(List.of(0, 1, 2), List.of(g.ordinal(0), g.ordinal(1), g.ordinal(2)));
            CountDownLatch all = new CountDownLatch(3); // every task waits for the others: passes only if they run at once
            List<String> threads = g.onEach(d -> {
                all.countDown();
                try {
                    assertTrue(all.await(10, TimeUnit.SECONDS), "devices ran one after another");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                try (Tensor t = g.backend(d).upload(new float[]{d}, 1, 1, TensorType.F32, "x")) {
                    return Thread.currentThread().getName() + ":" + g.backend(d).download(t)[0];
                }
            });
            assertEquals(List.of("routecal-device-0:0.0", "routecal-device-1:1.0", "routecal-device-2:2.0"), threads);
            Set<String> again = new HashSet<>(g.onEach(d -> Thread.currentThread().getName()));
            assertEquals(3, again.size(), "the same thread per device each time");
            RuntimeException e = assertThrows(IllegalStateException.class, () -> g.onEach(d -> {
                if (d >= 1) throw new IllegalStateException("device " + d + " failed");
                return d;
            }));
            assertEquals("device 1 failed", e.getMessage(), "the lowest failing device is reported");
            second = g.backend(1);
        }
        try (Tensor t = primary.allocate(TensorType.F32, 1, 1, "still open")) {
            assertFalse(t.isClosed(), "the caller's backend stays open");
        }
        assertTrue(second.name().startsWith("cpu"));
        primary.close();
    }
}
