package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.model.family.ModelConfig;

/** On every family's fixture checkpoint config: each norm's readers all absorb its scales, up → down per expert. */
class AwqMappingsTest {

    static Path fixture(String family) {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !java.nio.file.Files.isDirectory(p.resolve("tests/fixtures/models"))) p = p.getParent();
        return p.resolve("tests/fixtures/models").resolve(family).resolve("v1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3_moe", "qwen2_moe", "mixtral", "olmoe"})
    void everyReaderOfANormIsABalanceAndEveryExpertGetsItsDownMapping(String family) {
        ModelConfig c = ModelConfig.load(fixture(family));
        for (int layer = 0; layer < c.layerCount(); layer++) {
            List<AwqMappings.Mapping> maps = AwqMappings.ofLayer(c, layer);
            AwqMappings.Mapping input = maps.get(0);
            assertTrue(input.norm() && input.smooth().endsWith("input_layernorm"), input.smooth());
            assertEquals(3, input.balances().size());
            AwqMappings.Mapping post = maps.stream().filter(m -> m.norm() && m.smooth().endsWith("post_attention_layernorm")).findFirst().orElseThrow();
            // the readers of the post-attention norm: every module whose input is the block input
            Set<String> readers = new HashSet<>();
            for (LinearModules.Module m : LinearModules.ofLayer(c, layer)) {
                switch (m.role()) {
                    case ROUTER, EXPERT_IN, SHARED_IN, SHARED_GATE, DENSE_IN -> readers.add(m.module());
                    default -> { }
                }
            }
            assertEquals(readers, new HashSet<>(post.balances()), family + " layer " + layer);
            if (c.isMoeLayer(layer)) {
                assertEquals(AwqMappings.Parent.MOE_BLOCK, post.parent());
                assertTrue(post.balances().size() >= 2 * c.expertCount() + 1, "router + every expert's gate and up");
                long downs = maps.stream().filter(m -> m.expert() >= 0).count();
                assertEquals(c.expertCount(), downs);
                for (AwqMappings.Mapping m : maps) {
                    if (m.expert() >= 0) {
                        assertTrue(m.smooth().contains("." + m.expert() + "."), m.smooth());
                        assertEquals(1, m.balances().size());
                        assertTrue(m.balances().get(0).contains("." + m.expert() + "."), m.balances().get(0));
                    }
                }
            }
            boolean vo = maps.stream().anyMatch(m -> !m.norm() && m.parent() == AwqMappings.Parent.LINEAR && m.balances().get(0).endsWith("o_proj"));
            assertEquals(c.headCount() == c.headCountKv(), vo, family + ": v_proj → o_proj only without grouped-query attention");
        }
    }
}
