package org.routecal.quant.ct;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.io.safetensors.DType;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.io.safetensors.SafetensorsWriter;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

/** The writer takes tensors routecal changed without quantizing them (AWQ's folded norms) instead of the source's. */
class ReplacedTensorsTest {
    static {
        try {
            Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void replacedTensorsAreWrittenInTheSourceDtypeAndNotCopied(@TempDir Path tmp) throws Exception {
        Path src = tmp.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("config.json"), "{\"model_type\": \"qwen3_moe\"}");
        float[] w = new float[4 * 32], norm = {1f, 2f, 3f, 4f}, other = {5f, 6f};
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(i);
        try (SafetensorsWriter s = SafetensorsWriter.toFile(src.resolve("model.safetensors"), Map.of("format", "pt"))) {
            s.addFloat("a.weight", DType.BF16, new long[]{4, 32}, w);
            s.addFloat("n.weight", DType.BF16, new long[]{4}, norm);
            s.addFloat("o.bias", DType.F32, new long[]{2}, other);
        }
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        IntScheme scheme = new IntScheme(4, true, 32, ScaleDType.BF16);
        try (SafetensorsCheckpoint source = SafetensorsCheckpoint.open(src); CompressedTensorsWriter writer = CompressedTensorsWriter.into(out)) {
            writer.addQuantized("a", Rtn.quantize(scheme, w, 4, 32));
            writer.addReplaced("n.weight", DType.BF16, new long[]{4}, new float[]{0.5f, 0.25f, 3f, 8f});
            assertThrows(IllegalArgumentException.class, () -> writer.addReplaced("a.weight", DType.BF16, new long[]{4, 32}, w),
                    "a quantized module's weight cannot also be replaced");
            assertThrows(IllegalArgumentException.class, () -> writer.addReplaced("n.weight", DType.BF16, new long[]{4}, norm));
            writer.commit(src, source, new CtQuantConfig(scheme, ActOrder.NONE, List.of()));
        }
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
            assertEquals(DType.BF16, c.info("n.weight").dtype());
            assertArrayEquals(new float[]{0.5f, 0.25f, 3f, 8f}, c.readFloat("n.weight"), "the new values, not the source's");
            assertArrayEquals(other, c.readFloat("o.bias"), "untouched tensors are copied");
            assertTrue(c.contains("a.weight_packed") && !c.contains("a.weight"));
        }
        Path out2 = tmp.resolve("out2");
        Files.createDirectories(out2);
        try (SafetensorsCheckpoint source = SafetensorsCheckpoint.open(src); CompressedTensorsWriter writer = CompressedTensorsWriter.into(out2)) {
            writer.addReplaced("missing.weight", DType.F32, new long[]{1}, new float[]{1});
            RoutecalException e = assertThrows(RoutecalException.class,
                    () -> writer.commit(src, source, new CtQuantConfig(scheme, ActOrder.NONE, List.of())));
            assertTrue(e.getMessage().contains("missing.weight"), e.getMessage());
        }
    }
}
