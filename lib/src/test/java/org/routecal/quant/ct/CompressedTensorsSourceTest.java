package org.routecal.quant.ct;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.StoredForm;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * compressed-tensors checkpoints as llm-compressor writes them (FP8_DYNAMIC, FP8_BLOCK, W4A16), made and decoded by
 * compressed-tensors' own compressors (tests/make_quant_source_fixtures.py): our reader gives the decompressor's values
 * bit for bit, names every stored part, and passes unquantized tensors through.
 */
class CompressedTensorsSourceTest {
    static Path fixture(String c) { return Path.of("..", "tests", "fixtures", "quant", "ct_sources", c); }

    @ParameterizedTest
    @ValueSource(strings = {"fp8_channel", "fp8_block", "w4a16_group"})
    void readsWhatCompressedTensorsDecompresses(String c) {
        try (CompressedTensorsReader r = CompressedTensorsReader.open(fixture(c));
             SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(fixture(c).resolve("decoded.safetensors"))) {
            assertEquals(3, r.quantizedModules().size());
            for (String n : ref.names()) {
                assertArrayEquals(ref.info(n).shape(), r.shape(n), n);
                assertArrayEquals(ref.readFloat(n), r.readFloat(n), c + " " + n + ": ours vs compressed-tensors' decompress");
                StoredForm f = r.storedForm(n);
                assertEquals(StoredForm.Encoding.COMPRESSED_TENSORS, f.encoding());
                assertTrue(r.checkpoint().contains(f.parts().get("values")) && r.checkpoint().contains(f.parts().get("scales")), f.toString());
            }
            assertTrue(r.names().contains("model.layers.0.mlp.gate.weight"));
            assertEquals(StoredForm.Encoding.PLAIN, r.storedForm("model.layers.0.mlp.gate.weight").encoding());
            if (c.equals("fp8_block")) assertArrayEquals(new int[]{16, 16}, r.storedForm("model.layers.0.mlp.experts.0.down_proj.weight").block());
        }
    }
}
