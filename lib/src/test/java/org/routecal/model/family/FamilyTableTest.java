package org.routecal.model.family;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table's own checks: entries are consistent, copy-and-edit mistakes fail at build, refusals name the mechanism. */
class FamilyTableTest {
    static final Path QWEN3 = Path.of("..", "tests", "fixtures", "models", "qwen3_moe", "v1");

    @Test
    void everyModelTypeBelongsToOneFamily() {
        List<String> types = Families.ALL.stream().flatMap(f -> f.modelTypes().stream()).toList();
        assertEquals(types.size(), types.stream().distinct().count(), "model_type listed twice: " + types);
    }

    @Test
    void aNameLeftOverFromCopyAndEditIsRefused() {
        // Mixtral has no shared expert: a shared-expert name copied from Qwen2-MoE is a mistake the build names
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MoeFamily.builder("Broken").modelTypes("broken")
                .attention(Attention.gqa())
                .tensors(MoeFamily.Tensors.builder().llamaBackbone().gqaProjections("a.").router("r.weight")
                        .perExpertMlp("e.{expert}.").sharedMlp("s."))
                .experts(ExpertLayout.perExpert2d()).router(RouterSpec.softmaxTopKNormalized()).build());
        assertTrue(e.getMessage().contains("set but unused [sharedDown, sharedGate, sharedUp]"), e.getMessage());
    }

    @Test
    void aNameThePartsNeedIsRequired() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MoeFamily.builder("Broken").modelTypes("broken")
                .attention(Attention.gqa().withSinks())
                .tensors(MoeFamily.Tensors.builder().llamaBackbone().gqaProjections("a.").router("r.weight").perExpertMlp("e.{expert}."))
                .experts(ExpertLayout.perExpert2d()).router(RouterSpec.sigmoidGrouped()).build());
        assertTrue(e.getMessage().contains("missing [sinks, routerScoreCorrectionBias]"), e.getMessage());
    }

    @Test
    void perExpertTemplatesNeedTheExpertPlaceholder() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MoeFamily.builder("Broken").modelTypes("broken")
                .attention(Attention.gqa())
                .tensors(MoeFamily.Tensors.builder().llamaBackbone().gqaProjections("a.").router("r.weight").perExpertMlp("e."))
                .experts(ExpertLayout.perExpert2d()).router(RouterSpec.softmaxTopKNormalized()).build());
        assertTrue(e.getMessage().contains("lacks {expert}"), e.getMessage());
    }

    /**
     * Issue 15 item 8: use_sliding_window was aliased and never read; now it is read and runs (the window's semantics
     * are GPT-OSS's parity test's): positions inside the window see what full attention sees, later ones do not.
     */
    @Test
    void slidingWindowIsReadAndRuns() throws Exception {
        ObjectNode c = (ObjectNode) new ObjectMapper().readTree(QWEN3.resolve("config.json").toFile());
        c.put("use_sliding_window", true).put("sliding_window", 4);
        ModelConfig config = ModelConfig.parse(c, "cfg");
        assertEquals(List.of(ModelConfig.LayerAttention.SLIDING, ModelConfig.LayerAttention.SLIDING, ModelConfig.LayerAttention.SLIDING),
                config.layerAttention());
        assertTrue(Feature.required(config).contains(Feature.SLIDING_WINDOW));
        assertEquals(List.of(), Feature.missing(config, Feature.CURRENT_FORWARD));
        int[] seq = {5, 17, 99, 3, 42, 7, 200, 11};
        float[] windowed, full;
        try (var cpu = org.routecal.compute.devices.Devices.cpu();
             MoeModel w = new MoeModel(QWEN3, config, org.routecal.model.CheckpointSource.open(QWEN3), cpu, 1 << 26);
             MoeModel f = new MoeModel(QWEN3, ModelConfig.load(QWEN3), org.routecal.model.CheckpointSource.open(QWEN3), cpu, 1 << 26)) {
            windowed = w.forwardLogits(List.of(seq), org.routecal.model.ForwardTaps.NONE);
            full = f.forwardLogits(List.of(seq), org.routecal.model.ForwardTaps.NONE);
        }
        int vocab = 256;
        for (int t = 0; t < seq.length; t++) {
            double d = 0;
            for (int v = 0; v < vocab; v++) d = Math.max(d, Math.abs(windowed[t * vocab + v] - full[t * vocab + v]));
            if (t < 4) assertEquals(0, d, 1e-6, "position " + t + " is inside the window");
            else assertTrue(d > 1e-3, "position " + t + " no longer sees the first tokens: " + d);
        }
        // switched off (as in the fixture) it loads as full attention, the way transformers reads it
        c.put("use_sliding_window", false);
        assertTrue(!Feature.required(ModelConfig.parse(c, "cfg")).contains(Feature.SLIDING_WINDOW));
    }

    @Test
    void theFourRunnableFamiliesNeedNothingTheForwardLacks() throws Exception {
        for (String f : List.of("qwen3_moe", "qwen2_moe", "mixtral", "olmoe")) {
            ModelConfig c = ModelConfig.load(Path.of("..", "tests", "fixtures", "models", f, "v1"));
            assertEquals(List.of(), Feature.missing(c, Feature.CURRENT_FORWARD), f);
        }
    }
}
