package org.routecal.quant.ct;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.RoutecalException;
import org.routecal.pipeline.OutputDir;
import org.routecal.io.safetensors.DType;
import org.routecal.io.safetensors.DTypeCodec;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.io.safetensors.SafetensorsWriter;
import org.routecal.quant.FixtureTensors;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;
import org.routecal.quant.gptq.GptqSolver;
import org.routecal.quant.scheme.Fp8Scheme;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

/**
 * compressed-tensors checkpoints: writer → reader round trips, and the format proof — compressed-tensors' own
 * decompressors (tests/make_quant_fixtures.py --format-proof) decoded the committed checkpoints under
 * tests/fixtures/quant/ct/ to the values in {@code <scheme>.decoded.safetensors}; our reader must give the same
 * values bit for bit, and our writer must still produce exactly those checkpoint bytes.
 * Regenerate with {@code -Droutecal.regenerateFixtures=true}, then re-run the Python script.
 */
class CompressedTensorsRoundTripTest {
    static final String[] MODULES = {"model.layers.0.self_attn.q_proj", "model.layers.0.mlp.experts.0.gate_proj",
            "model.layers.0.mlp.experts.0.down_proj"};
    static final int ROWS = 32, COLS = 64;

    static {
        // surefire points java.io.tmpdir at target/tmp, which nothing creates before @TempDir needs it
        try {
            Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static QuantScheme scheme(String name) {
        return switch (name) {
            case "w4a16" -> new IntScheme(4, false, 32, ScaleDType.BF16);   // asymmetric: zero points packed along rows
            case "w8a16" -> new IntScheme(8, true, 0, ScaleDType.BF16);
            case "w3a16" -> new IntScheme(3, true, 16, ScaleDType.BF16);    // 3 bits: elements cross int32 words
            case "w2a16" -> new IntScheme(2, false, 32, ScaleDType.BF16);   // zero points packed 16 per word along rows
            case "w5a16" -> new IntScheme(5, true, 32, ScaleDType.BF16);
            case "w6a16" -> new IntScheme(6, false, 0, ScaleDType.BF16);    // per channel, 6-bit zero points across words
            case "fp8" -> new Fp8Scheme(false, ScaleDType.BF16);
            case "nvfp4" -> new Nvfp4Scheme(ScaleDType.BF16);
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** A tiny BF16 source checkpoint: three Linear weights, a norm, a tokenizer file. */
    static Path source(Path dir) throws IOException {
        Files.createDirectories(dir);
        Random rnd = new Random(42);
        try (SafetensorsWriter w = SafetensorsWriter.sharded(dir, 1 << 20, Map.of("format", "pt"))) {
            for (String m : MODULES) {
                float[] v = new float[ROWS * COLS];
                for (int i = 0; i < v.length; i++) v[i] = DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16((float) rnd.nextGaussian() * 0.05f));
                w.addFloat(m + ".weight", DType.BF16, new long[]{ROWS, COLS}, v);
            }
            float[] norm = new float[COLS];
            java.util.Arrays.fill(norm, 1f);
            w.addFloat("model.norm.weight", DType.BF16, new long[]{COLS}, norm);
        }
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"qwen3_moe\", \"torch_dtype\": \"bfloat16\"}");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\"}");
        return dir;
    }

    /**
     * "mixed": per-module widths as a bit allocation writes them — 4-bit by default (the Linear group), expert 0's
     * gate_proj at 3 bits and down_proj at 2 bits asymmetric, each named by a compact regex target.
     */
    static final Map<String, QuantScheme> MIXED = Map.of(MODULES[0], scheme("w4a16"), MODULES[1], scheme("w3a16"),
            MODULES[2], scheme("w2a16"));

    static CtQuantConfig mixedConfig() {
        return new CtQuantConfig(List.of(new CtQuantConfig.Group(scheme("w4a16"), List.of(CtQuantConfig.LINEAR)),
                new CtQuantConfig.Group(scheme("w3a16"), CtTargets.compact(List.of(MODULES[1]))),
                new CtQuantConfig.Group(scheme("w2a16"), CtTargets.compact(List.of(MODULES[2])))), ActOrder.GROUP, List.of("lm_head"));
    }

    /** Quantizes the source's modules (GPTQ with group act-order on one, so weight_g_idx is written) and exports. */
    static Map<String, QuantizedWeight> export(Path src, Path out, String schemeName, boolean overwrite) {
        return export(src, out, schemeName, overwrite, 1 << 14);
    }

    static Map<String, QuantizedWeight> export(Path src, Path out, String schemeName, boolean overwrite, long shardBytes) {
        boolean mixed = schemeName.equals("mixed");
        CtQuantConfig config = mixed ? mixedConfig() : new CtQuantConfig(scheme(schemeName), ActOrder.GROUP, List.of("lm_head"));
        Map<String, QuantizedWeight> qs = new LinkedHashMap<>();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(src);
             OutputDir dir = OutputDir.of("quantize", out).staged(true).overwrite(overwrite).input("--model", src).open();
             CompressedTensorsWriter w = CompressedTensorsWriter.into(dir.path(), shardBytes)) {
            for (int i = 0; i < MODULES.length; i++) {
                QuantScheme s = mixed ? MIXED.get(MODULES[i]) : scheme(schemeName);
                float[] wt = ckpt.readFloat(MODULES[i] + ".weight");
                QuantizedWeight q;
                if (i == 1 && s instanceof IntScheme) {
                    double[] h = new double[COLS * COLS];
                    Random rnd = new Random(7);
                    for (int t = 0; t < 200; t++) {
                        double[] x = new double[COLS];
                        for (int c = 0; c < COLS; c++) x[c] = rnd.nextGaussian() * (1 + c % 5);
                        for (int a = 0; a < COLS; a++) for (int b = 0; b < COLS; b++) h[a * COLS + b] += x[a] * x[b];
                    }
                    q = GptqSolver.quantize(MODULES[i], s, wt, ROWS, COLS, h, new GptqArgs(128, 0.01, ActOrder.GROUP), Float.NaN).weight();
                } else {
                    q = Rtn.quantize(s, wt, ROWS, COLS);
                }
                w.addQuantized(MODULES[i], q);
                qs.put(MODULES[i], q);
            }
            w.commit(src, ckpt, config);
            dir.commit();
        }
        return qs;
    }

    @ParameterizedTest
    @ValueSource(strings = {"w4a16", "w8a16", "w3a16", "w2a16", "w5a16", "w6a16", "mixed", "fp8", "nvfp4"})
    void writerReaderRoundTrip(String schemeName, @TempDir Path tmp) throws IOException {
        Path src = source(tmp.resolve("src"));
        Path out = tmp.resolve("out");
        Map<String, QuantizedWeight> written = export(src, out, schemeName, false, 1500); // several shards + index
        assertTrue(Files.exists(out.resolve("model.safetensors.index.json")), "sharded");
        try (CompressedTensorsReader r = CompressedTensorsReader.open(out); SafetensorsCheckpoint s = SafetensorsCheckpoint.open(src)) {
            assertEquals(written.keySet(), r.quantizedModules());
            for (var e : written.entrySet()) {
                QuantizedWeight back = r.quantized(e.getKey());
                assertEquals(e.getValue().scheme(), back.scheme(), "the config group that targets " + e.getKey());
                assertArrayEquals(e.getValue().codes(), back.codes(), e.getKey());
                assertArrayEquals(e.getValue().params().scales(), back.params().scales());
                if (e.getValue().params().zeros() != null) assertArrayEquals(e.getValue().params().zeros(), back.params().zeros());
                assertArrayEquals(e.getValue().gIdx(), back.gIdx());
                assertArrayEquals(e.getValue().dequantize(), r.readFloat(e.getKey() + ".weight"));
                assertArrayEquals(new long[]{ROWS, COLS}, r.shape(e.getKey() + ".weight"));
                assertFalse(r.checkpoint().contains(e.getKey() + ".weight") && !(written.get(e.getKey()).scheme() instanceof Fp8Scheme),
                        "plain weight removed when packed");
            }
            assertArrayEquals(s.readBytes("model.norm.weight"), r.checkpoint().readBytes("model.norm.weight"));
            assertTrue(r.contains("model.norm.weight"));
        }
        assertTrue(Files.exists(out.resolve("tokenizer.json")));
        JsonNode qc = new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("quantization_config");
        assertEquals("compressed-tensors", qc.get("quant_method").asText());
        assertEquals("compressed", qc.get("quantization_status").asText());
        QuantScheme first = schemeName.equals("mixed") ? scheme("w4a16") : scheme(schemeName);
        assertEquals(first instanceof IntScheme ? "pack-quantized"
                : first instanceof Fp8Scheme ? "naive-quantized" : "nvfp4-pack-quantized", qc.get("format").asText());
        assertEquals("lm_head", qc.get("ignore").get(0).asText());
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of("out", "src"), left.map(p -> p.getFileName().toString()).sorted().toList(), "no temp dirs left");
        }
    }

    /**
     * A directory routecal did not make is never replaced, not even with --overwrite; our own earlier checkpoint is
     * replaced only with it; a failure mid-way leaves the old checkpoint as it was and no temp directory or lock.
     */
    @Test
    void onlyOurOwnCheckpointIsReplacedAndAbortLeavesNothing(@TempDir Path tmp) throws IOException {
        Path src = source(tmp.resolve("src"));
        Path foreign = tmp.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("keep.txt"), "old");
        for (boolean overwrite : new boolean[]{false, true}) {
            RoutecalException e = assertThrows(RoutecalException.class, () -> export(src, foreign, "w8a16", overwrite));
            assertTrue(e.getMessage().contains("not made by routecal"), e.getMessage());
            assertEquals("old", Files.readString(foreign.resolve("keep.txt")));
        }
        Path out = tmp.resolve("out");
        export(src, out, "w8a16", false);
        RoutecalException e = assertThrows(RoutecalException.class, () -> export(src, out, "w8a16", false));
        assertTrue(e.getMessage().contains("--overwrite"), e.getMessage());
        byte[] config = Files.readAllBytes(out.resolve("config.json"));
        try (OutputDir dir = OutputDir.of("quantize", out).staged(true).overwrite(true).open();
             CompressedTensorsWriter w = CompressedTensorsWriter.into(dir.path())) {
            w.addQuantized(MODULES[0], Rtn.quantize(scheme("w4a16"), new float[ROWS * COLS], ROWS, COLS));
            // closed without commit: a failure
        }
        assertArrayEquals(config, Files.readAllBytes(out.resolve("config.json")), "the old checkpoint is untouched");
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of("foreign", "out", "src"), left.map(p -> p.getFileName().toString()).sorted().toList(), "no temp dir or lock left");
        }
        export(src, out, "w4a16", true);
        assertFalse(java.util.Arrays.equals(config, Files.readAllBytes(out.resolve("config.json"))), "replaced with --overwrite");
        assertTrue(assertThrows(RoutecalException.class, () -> export(src, src, "w8a16", true)).getMessage().contains("the input --model"),
                "the source checkpoint is never the output");
    }

    static final String[] PROOF_SCHEMES = {"w4a16", "w8a16", "w2a16", "w3a16", "w5a16", "w6a16", "mixed", "fp8", "nvfp4"};

    @Test
    void formatProofCompressedTensorsDecodesOurCheckpointsToOurValues(@TempDir Path tmp) throws IOException {
        Path dir = FixtureTensors.DIR.resolve("ct");
        if (Boolean.getBoolean("routecal.regenerateFixtures")) {
            Path src = source(tmp.resolve("src"));
            for (String s : PROOF_SCHEMES) export(src, dir.resolve(s), s, true);
        }
        Path src = source(tmp.resolve("src2"));
        for (String s : PROOF_SCHEMES) {
            // 1. our writer still produces the bytes compressed-tensors checked
            Path again = tmp.resolve("again-" + s);
            export(src, again, s, false);
            for (String f : List.of("model.safetensors", "config.json")) {
                if (Files.exists(dir.resolve(s).resolve(f)) || Files.exists(again.resolve(f))) {
                    assertArrayEquals(Files.readAllBytes(dir.resolve(s).resolve(f)), Files.readAllBytes(again.resolve(f)), s + "/" + f);
                }
            }
            // 2. our reader gives what compressed-tensors' decompressor gave
            FixtureTensors ref = new FixtureTensors(dir.resolve(s + ".decoded.safetensors"));
            List<String> checked = new ArrayList<>();
            try (CompressedTensorsReader r = CompressedTensorsReader.open(dir.resolve(s))) {
                for (String m : r.quantizedModules()) {
                    float[] want = ref.floats(m + ".weight"), got = r.readFloat(m + ".weight");
                    assertEquals(want.length, got.length);
                    for (int i = 0; i < want.length; i++) {
                        if (!(want[i] == got[i])) fail(s + " " + m + "[" + i + "]: compressed-tensors " + want[i] + ", ours " + got[i]);
                    }
                    checked.add(m);
                }
            }
            assertEquals(MODULES.length, checked.size());
        }
    }
}
