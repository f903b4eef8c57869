package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.io.safetensors.BlockFp8;
import org.routecal.io.safetensors.DTypeCodec;
import org.routecal.io.safetensors.SafetensorsCheckpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints published already quantized decode on load (issue 14 item 5), checked against transformers' own
 * dequantization: tests/make_fixtures.py stored, beside each quantized fixture, what transformers' Fp8Dequantize /
 * convert_moe_packed_tensors decode it to ({@code dequantized.safetensors}); ours must match bit for bit, and the
 * quantized checkpoint must present the same tensors (names, shapes) as its plain twin.
 */
class QuantizedSourceTest {
    static Path fixture(String name) { return DescribedFamilyFixtureTest.fixture(name); }

    private static void assertSameTensorsAsTwin(TensorSource quantized, TensorSource twin) {
        assertEquals(twin.names(), quantized.names());
        for (String n : twin.names()) assertArrayEquals(twin.shape(n), quantized.shape(n), n);
    }

    @Test
    void fp8BlockCheckpointDecodesAsTransformersDequantizesIt() {
        try (CheckpointSource fp8 = CheckpointSource.open(fixture("deepseek_v3_fp8"));
             CheckpointSource twin = CheckpointSource.open(fixture("deepseek_v3"));
             SafetensorsCheckpoint hf = SafetensorsCheckpoint.open(fixture("deepseek_v3_fp8").resolve("dequantized.safetensors"))) {
            assertSameTensorsAsTwin(fp8, twin);
            assertEquals(69, hf.names().size());
            for (String n : hf.names()) {
                assertEquals("FP8_BLOCK", fp8.dtype(n), n);
                assertArrayEquals(hf.readFloat(n), fp8.readFloat(n), n + ": ours vs transformers' Fp8Dequantize");
            }
            // what transformers left unquantized (a width its 16×16 block does not tile) reads as stored
            String kvA = "model.layers.0.self_attn.kv_a_proj_with_mqa.weight";
            assertEquals("BF16", fp8.dtype(kvA));
            assertArrayEquals(twin.readFloat(kvA), fp8.readFloat(kvA));
            ModelConfig c = ModelConfig.load(fixture("deepseek_v3_fp8"));
            CheckpointLayout.verify(c, fp8);
            assertEquals(List.of(), List.copyOf(CheckpointLayout.unclaimed(c, fp8)), "weight_scale_inv are parts, not keys");
        }
    }

    /** One expert of a packed stack read alone (plain rows, or MXFP4 blocks and scales) equals its slice of the whole. */
    @Test
    void expertSlicesReadAloneEqualTheWholeTensor() {
        for (String name : List.of("gpt_oss", "gpt_oss_mxfp4", "llama4_text")) {
            try (CheckpointSource src = CheckpointSource.open(fixture(name))) {
                int stacks = 0;
                for (String t : src.names()) {
                    long[] shape = src.shape(t);
                    if (shape.length != 3 || !t.contains("experts")) continue;
                    stacks++;
                    float[] whole = src.readFloat(t);
                    int per = (int) (shape[1] * shape[2]);
                    for (int e : new int[]{0, (int) shape[0] - 1}) {
                        assertArrayEquals(java.util.Arrays.copyOfRange(whole, e * per, (e + 1) * per), src.readFloatLeading(t, e, 1), name + " " + t + " expert " + e);
                    }
                    assertThrows(RoutecalException.class, () -> src.readFloatLeading(t, (int) shape[0], 1), "past the last expert");
                }
                assertTrue(stacks >= 2, name + ": packed expert stacks found: " + stacks);
            }
        }
    }

    @Test
    void fp8StoredPartsAreTheEncodedBytes() {
        try (CheckpointSource fp8 = CheckpointSource.open(fixture("deepseek_v3_fp8"))) {
            String n = "model.layers.1.mlp.experts.3.down_proj.weight";
            StoredForm f = fp8.storedForm(n);
            assertEquals(StoredForm.Encoding.FP8_BLOCK, f.encoding());
            assertEquals(Map.of("values", n, "scales", "model.layers.1.mlp.experts.3.down_proj.weight_scale_inv"), f.parts());
            assertArrayEquals(new int[]{16, 16}, f.block());
            byte[] codes = fp8.readStored(f.parts().get("values"));
            assertEquals(64 * 32, codes.length);
            float scale00 = fp8.checkpoint().readFloat(f.parts().get("scales"))[0];
            assertEquals(DTypeCodec.fp8e4m3ToFloat(codes[1]) * scale00, fp8.readFloat(n)[1]);
            assertEquals(StoredForm.Encoding.PLAIN, fp8.storedForm("model.norm.weight").encoding());
        }
    }

    @Test
    void mxfp4ExpertsDecodeAsTransformersDequantizesThemAndEqualTheBf16Twin() {
        try (CheckpointSource mx = CheckpointSource.open(fixture("gpt_oss_mxfp4"));
             CheckpointSource twin = CheckpointSource.open(fixture("gpt_oss"));
             SafetensorsCheckpoint hf = SafetensorsCheckpoint.open(fixture("gpt_oss_mxfp4").resolve("dequantized.safetensors"))) {
            assertSameTensorsAsTwin(mx, twin);
            assertEquals(4, hf.names().size());
            for (String n : hf.names()) {
                assertEquals("MXFP4", mx.dtype(n));
                float[] ours = mx.readFloat(n);
                assertArrayEquals(hf.readFloat(n), ours, n + ": ours vs transformers' convert_moe_packed_tensors");
                assertArrayEquals(twin.readFloat(n), ours, n + ": the bf16 twin holds the same values");
            }
            StoredForm f = mx.storedForm("model.layers.1.mlp.experts.gate_up_proj");
            assertEquals(Map.of("values", "model.layers.1.mlp.experts.gate_up_proj_blocks", "scales", "model.layers.1.mlp.experts.gate_up_proj_scales"), f.parts());
            ModelConfig c = ModelConfig.load(fixture("gpt_oss_mxfp4"));
            CheckpointLayout.verify(c, mx);
            assertEquals(List.of(), List.copyOf(CheckpointLayout.unclaimed(c, mx)));
        }
    }

    /** DeepSeek's own checkpoints have sides that 128 does not divide (kv_a_proj_with_mqa: 576 rows): partial edge blocks. */
    @Test
    void edgeBlocksArePartial() {
        // 3×5 values in 2×2 blocks: scale grid 2×3; value (r, c) uses scale (r/2, c/2). Codes 0x38 = 1.0, 0x40 = 2.0.
        byte[] codes = new byte[15];
        java.util.Arrays.fill(codes, (byte) 0x38);
        codes[14] = 0x40;
        float[] scales = {1, 2, 3, 4, 5, 6};
        float[] v = BlockFp8.decode(codes, 1, 3, 5, scales, 2, 2, "t");
        assertArrayEquals(new float[]{1, 1, 2, 2, 3, 1, 1, 2, 2, 3, 4, 4, 5, 5, 12}, v);
        RoutecalException e = assertThrows(RoutecalException.class, () -> BlockFp8.decode(codes, 1, 3, 5, new float[4], 2, 2, "t"));
        assertTrue(e.getMessage().contains("need 1×2×3"), e.getMessage());
    }

    @Test
    void aWrongBlockSizeOrAnUnknownMethodIsNamed(@TempDir Path tmp) throws Exception {
        Path d = tmp.resolve("m");
        Files.createDirectories(d);
        Files.copy(fixture("deepseek_v3_fp8").resolve("model.safetensors"), d.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree(fixture("deepseek_v3_fp8").resolve("config.json").toFile());
        ((ObjectNode) cfg.get("quantization_config")).putArray("weight_block_size").add(32).add(32);
        Files.writeString(d.resolve("config.json"), json.writeValueAsString(cfg));
        try (CheckpointSource s = CheckpointSource.open(d)) {
            RoutecalException e = assertThrows(RoutecalException.class, () -> s.readFloat("model.layers.0.self_attn.q_a_proj.weight"));
            assertTrue(e.getMessage().contains("weight_block_size does not match"), e.getMessage());
        }
        ((ObjectNode) cfg.get("quantization_config")).put("quant_method", "bitsandbytes");
        Files.writeString(d.resolve("config.json"), json.writeValueAsString(cfg));
        RoutecalException e = assertThrows(RoutecalException.class, () -> CheckpointSource.open(d));
        assertTrue(e.getMessage().contains("quant_method \"bitsandbytes\" is not a format routecal decodes"), e.getMessage());
    }
}
