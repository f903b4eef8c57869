package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;
import org.routecal.cli.Main;
import org.routecal.io.safetensors.DType;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.io.safetensors.SafetensorsWriter;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Config key aliases across transformers 4 and 5, and bad checkpoints failing with messages that name the culprit. */
class ModelLoadingTest {
    /** The scalar reference backend (plain loops). */
    private static final org.routecal.compute.Backend REF =
            new org.routecal.compute.cpu.CpuBackend(new org.routecal.compute.cpu.ReferenceOps(), org.routecal.compute.Precision.FP32, "test");

    static final Path QWEN3 = Path.of("..", "tests", "fixtures", "models", "qwen3_moe", "v1");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void transformers4AndTransformers5KeyNamesLoadTheSameConfig() throws Exception {
        ObjectNode v5 = (ObjectNode) JSON.readTree(QWEN3.resolve("config.json").toFile());
        ObjectNode v4 = v5.deepCopy();
        v4.set("num_experts", v4.remove("num_local_experts"));
        v4.set("rope_theta", v4.get("rope_parameters").get("rope_theta"));
        v4.remove("rope_parameters");
        v4.putNull("rope_scaling");
        ModelConfig a = ModelConfig.parse(v5, "v5"), b = ModelConfig.parse(v4, "v4");
        assertEquals(8, b.expertCount());
        assertEquals(1_000_000.0, b.rope().theta());
        assertEquals(a, b);
    }

    @Test
    void unknownModelTypeListsTheSupportedOnes() throws Exception {
        ObjectNode c = (ObjectNode) JSON.readTree(QWEN3.resolve("config.json").toFile());
        c.put("model_type", "llama");
        RoutecalException e = assertThrows(RoutecalException.class, () -> ModelConfig.parse(c, "cfg"));
        assertTrue(e.getMessage().contains("unsupported model_type \"llama\"") && e.getMessage().contains("qwen3_moe")
                && e.getMessage().contains("mixtral"), e.getMessage());
    }

    /** DeepSeek-V3 runs now; a checkpoint without its MLA tensors is refused naming them, before any forward. */
    @Test
    void mlaConfigOverACheckpointWithoutMlaTensorsNamesThem() throws Exception {
        ObjectNode c = (ObjectNode) JSON.readTree(QWEN3.resolve("config.json").toFile());
        c.put("model_type", "deepseek_v3").put("kv_lora_rank", 32).put("q_lora_rank", 48).put("qk_nope_head_dim", 16)
                .put("qk_rope_head_dim", 8).put("v_head_dim", 16).put("first_k_dense_replace", 1);
        ModelConfig config = ModelConfig.parse(c, "cfg");
        MapTensorSource src = new MapTensorSource("m");
        try (CheckpointSource real = CheckpointSource.open(QWEN3)) {
            for (String n : real.names()) src.put(n, real.shape(n), new float[0]);
        }
        RoutecalException e = assertThrows(RoutecalException.class, () -> new MoeModel(Path.of("x"), config, src, REF, 1 << 20));
        assertTrue(e.getMessage().contains("missing tensor model.layers.0.self_attn.q_a_proj.weight")
                && e.getMessage().contains("missing tensor model.layers.0.self_attn.kv_b_proj.weight"), e.getMessage());
    }

    @Test
    void missingAndWrongFieldsAreNamed() throws Exception {
        ObjectNode c = (ObjectNode) JSON.readTree(QWEN3.resolve("config.json").toFile());
        c.remove("hidden_size");
        assertTrue(assertThrows(RoutecalException.class, () -> ModelConfig.parse(c, "cfg")).getMessage().contains("\"hidden_size\" is missing"));
        ObjectNode d = (ObjectNode) JSON.readTree(QWEN3.resolve("config.json").toFile());
        d.put("num_experts_per_tok", "two");
        assertTrue(assertThrows(RoutecalException.class, () -> ModelConfig.parse(d, "cfg")).getMessage().contains("num_experts_per_tok"));
    }

    /** Copies the fixture checkpoint through {@code edit} (name, values → values or null to drop). */
    private static Path copy(Path dir, BiFunction<String, float[], float[]> edit, Map<String, Object> configEdits) throws Exception {
        Files.createDirectories(dir);
        ObjectNode c = (ObjectNode) JSON.readTree(QWEN3.resolve("config.json").toFile());
        configEdits.forEach((k, v) -> c.putPOJO(k, v));
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(c));
        try (SafetensorsCheckpoint src = SafetensorsCheckpoint.open(QWEN3.resolve("model.safetensors"));
             SafetensorsWriter w = SafetensorsWriter.toFile(dir.resolve("model.safetensors"), Map.of())) {
            for (String name : src.names()) {
                float[] v = edit.apply(name, src.readFloat(name));
                if (v != null) w.addFloat(name, DType.F32, src.info(name).shape(), v);
            }
        }
        return dir;
    }

    @Test
    void missingTensorIsNamed(@TempDir Path tmp) throws Exception {
        Path dir = copy(tmp.resolve("m"), (n, v) -> n.equals("model.layers.1.mlp.experts.3.up_proj.weight") ? null : v, Map.of());
        RoutecalException e = assertThrows(RoutecalException.class, () -> MoeModel.load(dir, REF));
        assertTrue(e.getMessage().contains("missing tensor model.layers.1.mlp.experts.3.up_proj.weight"), e.getMessage());
    }

    @Test
    void shapeNotMatchingConfigIsNamed(@TempDir Path tmp) throws Exception {
        Path dir = copy(tmp.resolve("m"), (n, v) -> v, Map.of("moe_intermediate_size", 24));
        RoutecalException e = assertThrows(RoutecalException.class, () -> MoeModel.load(dir, REF));
        assertTrue(e.getMessage().contains("model.layers.0.mlp.experts.0.gate_proj.weight has shape [32, 64], config implies [24, 64]"), e.getMessage());
    }

    @Test
    void nanInWeightsIsNamedOnFirstUse(@TempDir Path tmp) throws Exception {
        Path dir = copy(tmp.resolve("m"), (n, v) -> {
            if (n.equals("model.layers.0.self_attn.k_proj.weight")) v[5] = Float.NaN;
            return v;
        }, Map.of());
        try (MoeModel m = MoeModel.load(dir, REF)) {
            RoutecalException e = assertThrows(RoutecalException.class,
                    () -> m.forwardBatch(List.of(new int[]{1, 2, 3}), ForwardTaps.NONE));
            assertTrue(e.getMessage().contains("model.layers.0.self_attn.k_proj.weight contains NaN"), e.getMessage());
        }
    }

    /** Expert stacks load their parts in parallel on the CPU; a bad value in one of them is still named. */
    @Test
    void nanInAnExpertIsNamedWhenTheStackLoadsInParallel(@TempDir Path tmp) throws Exception {
        Path dir = copy(tmp.resolve("m"), (n, v) -> {
            if (n.equals("model.layers.1.mlp.experts.5.down_proj.weight")) v[v.length - 1] = Float.POSITIVE_INFINITY;
            return v;
        }, Map.of());
        try (MoeModel m = MoeModel.load(dir, REF)) {
            RoutecalException e = assertThrows(RoutecalException.class,
                    () -> m.forwardBatch(List.of(new int[]{1, 2, 3}), ForwardTaps.NONE));
            assertTrue(e.getMessage().contains("model.layers.1.mlp.experts.5.down_proj.weight contains Infinity"), e.getMessage());
        }
    }

    @Test
    void cliReportsBadInputWithoutStackTraceAndNonZeroExit(@TempDir Path tmp) {
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf));
        int code;
        try {
            code = Main.run("inspect", "--model", tmp.toString());
        } finally {
            System.setErr(err);
        }
        String text = buf.toString();
        assertEquals(2, code);
        assertTrue(text.startsWith("error: ") && text.contains("config.json: not found"), text);
        assertTrue(!text.contains("\tat "), "no stack trace: " + text);
    }
}
