package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.routecal.model.family.Feature;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.routecal.model.family.Feature.*;

/**
 * The newer families' tables on checkpoints transformers 5.17 wrote (tests/make_fixtures.py): every key is claimed,
 * every implied tensor is there with its shape, the MoE layers are the ones HF routed, and the mechanisms each model
 * needs (read off each family's transformers modeling file, not off our table) are the ones the forward pass runs.
 * Their parity with transformers is in DeepseekV3ParityTest, GptOssParityTest, Glm4MoeParityTest, Llama4TextParityTest.
 */
class DescribedFamilyFixtureTest {
    static Path fixture(String family) { return Path.of("..", "tests", "fixtures", "models", family, "v1"); }

    static Stream<Arguments> families() {
        return Stream.of(
                Arguments.of("deepseek_v3", EnumSet.of(MLA, ROPE_SCALING, INTERLEAVED_ROTARY, YARN_MSCALE, SHARED_EXPERT,
                        SIGMOID_GROUPED_ROUTING, DENSE_LAYERS)),
                Arguments.of("gpt_oss", EnumSet.of(QKV_BIAS, ATTENTION_OUTPUT_BIAS, ATTENTION_SINKS, SLIDING_WINDOW, ROPE_SCALING,
                        YARN_UNTRUNCATED, PACKED_EXPERTS, EXPERT_BIASES, CLAMPED_SWIGLU, ROUTER_LOGIT_BIAS)),
                Arguments.of("glm4_moe", EnumSet.of(QK_NORM, QKV_BIAS, PARTIAL_ROTARY, SHARED_EXPERT, SIGMOID_GROUPED_ROUTING,
                        DENSE_LAYERS)),
                Arguments.of("llama4_text", EnumSet.of(L2_QK_NORM, CHUNKED_ATTENTION, NOPE_LAYERS, ATTENTION_TEMPERATURE_TUNING,
                        ROPE_SCALING, INTERLEAVED_ROTARY, PACKED_EXPERTS, ROUTER_WEIGHT_ON_INPUT, SHARED_EXPERT, DENSE_LAYERS)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void checkpointMatchesTheTableAndEveryKeyIsClaimed(String family, Set<Feature> needs) throws Exception {
        ModelConfig c = ModelConfig.load(fixture(family));
        try (CheckpointSource src = CheckpointSource.open(fixture(family))) {
            CheckpointLayout.verify(c, src);
            assertEquals(List.of(), List.copyOf(CheckpointLayout.unclaimed(c, src)), family + ": keys no template claims");
        }
        JsonNode ref = new ObjectMapper().readTree(Files.readString(fixture(family).resolve("reference.json")));
        List<Integer> hfMoeLayers = new ArrayList<>(), ours = new ArrayList<>();
        ref.get("moe_layers").forEach(n -> hfMoeLayers.add(n.asInt()));
        for (int l = 0; l < c.layerCount(); l++) if (c.isMoeLayer(l)) ours.add(l);
        assertEquals(hfMoeLayers, ours, family + ": MoE layers");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void theForwardPassRunsEveryMechanismTheModelNeeds(String family, Set<Feature> needs) {
        ModelConfig c = ModelConfig.load(fixture(family));
        assertEquals(needs, Feature.required(c), family + ": mechanisms needed");
        assertEquals(List.of(), Feature.missing(c, Feature.CURRENT_FORWARD), family + ": mechanisms the forward pass lacks");
    }

    /** A forward pass without one of a model's mechanisms names exactly that one (what MoeModel's refusal prints). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void aMissingMechanismIsNamedExactly(String family, Set<Feature> needs) {
        ModelConfig c = ModelConfig.load(fixture(family));
        for (Feature f : needs) {
            Set<Feature> without = EnumSet.copyOf(Feature.CURRENT_FORWARD);
            without.remove(f);
            assertEquals(List.of(f), Feature.missing(c, without), family + " without " + f);
            assertEquals(f.description(), Feature.describe(Feature.missing(c, without)));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void inspectDescribesTheFamilyAndWhatItNeeds(String family, Set<Feature> needs) {
        java.io.PrintStream out = System.out;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buf));
        int code;
        try {
            code = org.routecal.cli.Main.run("inspect", "--model", fixture(family).toString());
        } finally {
            System.setOut(out);
        }
        assertEquals(0, code, buf.toString());
        ModelSummary s = ModelSummary.of(fixture(family), 64);
        assertEquals(List.copyOf(needs), s.needs());
        assertEquals(List.of(), s.missing());
        assertTrue(buf.toString().contains(Feature.describe(s.needs())), buf.toString());
        assertTrue(!buf.toString().contains("NOT RUNNABLE"), buf.toString());
    }

    @Test
    void geometryOfTheNewFamiliesIsReadAsTransformersReadsIt() {
        ModelConfig ds = ModelConfig.load(fixture("deepseek_v3"));
        assertEquals(new ModelConfig.Mla(48, 32, 16, 8, 16), ds.mla());
        assertEquals(24, ds.headDim(), "MLA q/k head = nope + rope (config.json's head_dim 8 is the rope part)");
        assertEquals(32, ds.expertSharedIntermediateSize(), "moe_intermediate_size × n_shared_experts");
        assertEquals(1.0, ds.rope().mscaleAllDim());
        assertTrue(ds.ropeInterleaved());
        ModelConfig oss = ModelConfig.load(fixture("gpt_oss"));
        assertEquals(List.of(ModelConfig.LayerAttention.SLIDING, ModelConfig.LayerAttention.FULL), oss.layerAttention());
        assertEquals(8, oss.slidingWindow());
        assertEquals(7.0f, oss.swigluLimit(), "transformers' default when config.json has no swiglu_limit");
        assertTrue(oss.qkvBias() && oss.outputBias());
        ModelConfig glm = ModelConfig.load(fixture("glm4_moe"));
        assertEquals(0.5, glm.rope().partialRotaryFactor());
        assertTrue(glm.qkNorm() && glm.qkvBias() && !glm.outputBias());
        ModelConfig l4 = ModelConfig.load(fixture("llama4_text"));
        assertEquals(Set.of(1, 3), l4.noRopeLayers());
        assertEquals(96, l4.intermediateSize(), "dense layers use intermediate_size_mlp");
        assertEquals(32, l4.expertIntermediateSize());
        assertEquals(32, l4.expertSharedIntermediateSize(), "the shared expert has the experts' width");
        assertEquals(List.of(ModelConfig.LayerAttention.CHUNKED, ModelConfig.LayerAttention.FULL,
                ModelConfig.LayerAttention.CHUNKED, ModelConfig.LayerAttention.FULL), l4.layerAttention());
    }

    /**
     * GLM-4.5's q/k norm follows the config's use_qk_norm, not the family: switched off, the checkpoint has no
     * q_norm/k_norm and the model loads, claims every key and runs without them (and computes something else).
     */
    @Test
    void glmWithoutQkNormReadsNoNormTensors() throws Exception {
        ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(fixture("glm4_moe").resolve("config.json").toFile());
        cfg.put("use_qk_norm", false);
        ModelConfig off = ModelConfig.parse(cfg, "cfg");
        assertTrue(!off.qkNorm() && !Feature.required(off).contains(QK_NORM));
        MapTensorSource src = new MapTensorSource("glm without q/k norm");
        try (CheckpointSource real = CheckpointSource.open(fixture("glm4_moe"))) {
            for (String n : real.names()) if (!n.contains("q_norm") && !n.contains("k_norm")) src.put(n, real.shape(n), real.readFloat(n));
        }
        assertEquals(List.of(), List.copyOf(CheckpointLayout.unclaimed(off, src)));
        int[] seq = {3, 141, 59, 26, 5, 35, 89, 79};
        try (var cpu = org.routecal.compute.devices.Devices.cpu();
             MoeModel without = new MoeModel(fixture("glm4_moe"), off, src, cpu, 1L << 26);
             MoeModel with = MoeModel.load(fixture("glm4_moe"), cpu)) {
            float[] a = without.forwardLogits(List.of(seq), ForwardTaps.NONE), b = with.forwardLogits(List.of(seq), ForwardTaps.NONE);
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                assertTrue(Float.isFinite(a[i]));
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            assertTrue(diff > 1e-3, "the norms made a difference when on: " + diff);
        }
    }

    /** DeepSeek-V3 and GLM-4.5 ship num_nextn_predict_layers MTP layers after the last one; claimed, never loaded. */
    @Test
    void multiTokenPredictionLayersAreClaimedNotRequired() throws Exception {
        ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(fixture("deepseek_v3").resolve("config.json").toFile());
        cfg.put("num_nextn_predict_layers", 1);
        ModelConfig c = ModelConfig.parse(cfg, "cfg");
        MapTensorSource src = new MapTensorSource("m");
        try (CheckpointSource real = CheckpointSource.open(fixture("deepseek_v3"))) {
            for (String n : real.names()) src.put(n, real.shape(n), new float[0]);
        }
        src.put("model.layers.3.eh_proj.weight", new long[]{64, 128}, new float[0]);
        src.put("model.layers.3.shared_head.norm.weight", new long[]{64}, new float[0]);
        src.put("model.layers.4.eh_proj.weight", new long[]{64, 128}, new float[0]);
        CheckpointLayout.verify(c, src);
        assertEquals(List.of("model.layers.4.eh_proj.weight"), List.copyOf(CheckpointLayout.unclaimed(c, src)));
    }
}
