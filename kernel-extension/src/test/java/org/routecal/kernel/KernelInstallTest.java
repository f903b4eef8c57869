package org.routecal.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.cli.Main;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class KernelInstallTest {
    @Test
    void writesKernelspecThroughTheCli(@TempDir Path prefix) throws Exception {
        assertEquals(0, Main.run("kernel", "install", "--prefix", prefix.toString(), "--name", "rc-test", "--heap", "3g"));
        Path spec = prefix.resolve("share/jupyter/kernels/rc-test/kernel.json");
        JsonNode k = new ObjectMapper().readTree(spec.toFile());
        assertEquals("java", k.get("language").asText());
        assertEquals("message", k.get("interrupt_mode").asText());
        String joined = k.get("argv").toString();
        assertTrue(Path.of(k.get("argv").get(0).asText()).isAbsolute());
        assertTrue(Files.isExecutable(Path.of(k.get("argv").get(0).asText())));
        assertTrue(joined.contains("\"--add-modules\",\"jdk.incubator.vector\""), joined);
        assertTrue(joined.contains("\"-Xmx3g\""), joined);
        assertTrue(joined.endsWith("\"org.routecal.kernel.RoutecalKernel\",\"{connection_file}\"]"), joined);
        assertTrue(joined.contains("\"-XX:+UseG1GC\",\"-XX:G1HeapRegionSize=32m\""), "G1 with 32 MB regions: " + joined);
    }

    @Test
    void aCollectorTheUserPicksReplacesG1(@TempDir Path prefix) throws Exception {
        assertEquals(0, Main.run("kernel", "install", "--prefix", prefix.toString(), "--name", "rc-par", "--jvm-option", "-XX:+UseParallelGC"));
        String joined = new ObjectMapper().readTree(prefix.resolve("share/jupyter/kernels/rc-par/kernel.json").toFile()).get("argv").toString();
        assertTrue(joined.contains("\"-XX:+UseParallelGC\""), joined);
        assertFalse(joined.contains("UseG1GC"), "two collectors would stop the JVM: " + joined);
    }

    @Test
    void collectorDefaultsGiveWayToTheUsersChoice() {
        assertEquals(java.util.List.of("-XX:+UseG1GC", "-XX:G1HeapRegionSize=32m"), KernelInstallCommand.collectorDefaults(java.util.List.of("-Xss4m")));
        assertEquals(java.util.List.of(), KernelInstallCommand.collectorDefaults(java.util.List.of("-XX:+UseZGC")));
        assertEquals(java.util.List.of("-XX:+UseG1GC"), KernelInstallCommand.collectorDefaults(java.util.List.of("-XX:G1HeapRegionSize=8m")));
    }

    @Test
    void badOptionsAreUserErrors(@TempDir Path prefix) {
        assertEquals(2, Main.run("kernel", "install", "--prefix", prefix.toString(), "--heap", "lots"));
        assertNotEquals(0, Main.run("kernel", "install", "--user", "--prefix", prefix.toString()));
    }
}
