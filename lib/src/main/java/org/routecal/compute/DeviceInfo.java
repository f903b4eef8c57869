package org.routecal.compute;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a run computed on, for logs and manifests: {@code kind} cpu or cuda, the device's name, the driver (CUDA)
 * or JVM/ISA details (CPU), memory, and the line that said why this device was chosen.
 */
public record DeviceInfo(String kind, String name, String driver, long memoryBytes, int threads, String reason) {
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("name", name);
        m.put("driver", driver);
        m.put("memory_bytes", memoryBytes);
        if (threads > 0) m.put("threads", threads);
        m.put("selected_because", reason);
        return m;
    }
}
