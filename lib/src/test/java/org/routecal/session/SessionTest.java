package org.routecal.session;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class SessionTest {
    private static final Path FIXTURE = Path.of("../tests/fixtures/models/qwen3_moe/v1");

    private static void copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
    }

    @Test
    void aModelIsLoadedOnceAndReloadedWhenItsFilesChange(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("m");
        copy(FIXTURE, dir);
        DeviceOptions cpu = new DeviceOptions();
        cpu.device = "cpu";
        cpu.precision = "fp32";
        int[] tokens = {3, 14, 15, 92, 65};
        try (Session s = new Session(null)) {
            MoeModel first = s.model(dir, cpu);
            assertSame(first, s.model(tmp.resolve("m/../m"), cpu), "the same directory, spelled differently, is the cached model");
            float[] before = first.forwardLogits(List.of(tokens), ForwardTaps.NONE);

            // the checkpoint is rewritten in place (a notebook re-runs a stage into the same --out): other weights
            Path weights;
            try (Stream<Path> files = Files.list(dir)) {
                weights = files.filter(f -> f.toString().endsWith(".safetensors")).findFirst().orElseThrow();
            }
            byte[] bytes = Files.readAllBytes(weights);
            Files.delete(weights);
            Files.write(weights, bytes); // same values, a new file: what a rewrite looks like to the cache
            Files.setLastModifiedTime(weights, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
            MoeModel second = s.model(dir, cpu);
            assertNotSame(first, second, "a checkpoint changed on disk is read again, not served from the cache");
            assertArrayEquals(before, second.forwardLogits(List.of(tokens), ForwardTaps.NONE));
            assertSame(second, s.model(dir, cpu));
        }
    }
}
