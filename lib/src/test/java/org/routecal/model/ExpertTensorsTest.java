package org.routecal.model;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.cpu.CpuBackend;
import org.routecal.model.family.ModelConfig;
import org.routecal.quant.FixtureTensors;

/**
 * A layer's experts live in stacks of consecutive experts ({@link Backend#expertStackBytes}): a GPU keeps one stack,
 * the CPU bounded ones (a DeepSeek-V3 layer's gate/up would be 7.5·10⁹ elements, over the JVM's array limit). Every
 * stacking must compute the same thing, bit for bit, on the CPU's own kernels, for a per-expert family, a packed one
 * with expert biases (GPT-OSS), MXFP4 experts and DeepSeek-V3; and an override of one expert must survive its
 * stack's eviction.
 */
class ExpertTensorsTest {
    private static final List<int[]> SEQ = List.of(new int[]{1, 5, 9, 200, 17, 3, 77, 4}, new int[]{8, 2, 130});

    private static Path fixture(String family) { return FixtureTensors.DIR.getParent().resolve("models/" + family + "/v1"); }

    /** A CPU backend whose expert stacks hold at most {@code experts} experts of the gate/up shape (0: one stack). */
    private static CpuBackend cpuStacking(ModelConfig c, int experts) {
        long gateUpBytes = 2L * c.expertIntermediateSize() * c.hiddenSize() * Float.BYTES;
        return ExpertStacksTest.limited(experts == 0 ? Long.MAX_VALUE : experts * gateUpBytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3_moe", "gpt_oss", "gpt_oss_mxfp4", "deepseek_v3"})
    void everyStackingGivesTheSameLogits(String family) {
        Path dir = fixture(family);
        ModelConfig c = ModelConfig.load(dir);
        int layer = firstMoeLayer(c), experts = c.expertCount();
        float[] expected = null;
        List<float[]> gateUp = null;
        for (int perStack : new int[]{0, 1, 3}) {
            try (Backend cpu = cpuStacking(c, perStack);
                 MoeModel m = new MoeModel(dir, c, CheckpointSource.open(dir), cpu, 1L << 30)) {
                float[] logits = m.forwardLogits(SEQ, ForwardTaps.NONE);
                ModelWeights.Experts ex = m.weights().experts(layer);
                java.util.Set<Object> storages = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
                List<float[]> values = new java.util.ArrayList<>();
                for (int e = 0; e < experts; e++) {
                    storages.add(ex.gateUp().get(e).storage());
                    values.add(cpu.download(ex.gateUp().get(e)));
                    assertEquals(2 * c.expertIntermediateSize(), ex.gateUp().get(e).rowCount());
                }
                int stacks = perStack == 0 ? 1 : (experts + perStack - 1) / perStack;
                assertEquals(stacks, storages.size(), "gate/up stacks of " + perStack + " experts");
                assertSame(ex.gateUp().get(0).storage(), m.weights().experts(layer).gateUp().get(0).storage(), "cached: the same stack again");
                if (expected == null) {
                    expected = logits;
                    gateUp = values;
                    continue;
                }
                assertArrayEquals(expected, logits, "logits with stacks of " + perStack);
                for (int e = 0; e < experts; e++) assertArrayEquals(gateUp.get(e), values.get(e), "expert " + e + " with stacks of " + perStack);
            }
        }
    }

    /**
     * An expert's weight patched in place (a quantized expert) and then evicted by a cache that keeps only the
     * running layer comes back with the override; the model with a cache that holds everything is the reference.
     */
    @ParameterizedTest
    @ValueSource(strings = {"qwen3_moe", "gpt_oss"})
    void anEvictedPatchedExpertKeepsItsOverride(String family) {
        Path dir = fixture(family);
        ModelConfig c = ModelConfig.load(dir);
        int layer = lastMoeLayer(c), expert = c.expertCount() - 1;
        try (Backend cpu = cpuStacking(c, 2);
             MoeModel big = new MoeModel(dir, c, CheckpointSource.open(dir), cpu, 1L << 30);
             MoeModel tiny = new MoeModel(dir, c, CheckpointSource.open(dir), cpu, 1)) {
            String name = tiny.weights().expertWeightName(layer, expert, PackedExperts.Projection.UP);
            long[] shape = tiny.weights().shape(name);
            float[] changed = tiny.weights().hostValues(name, shape).clone();
            for (int i = 0; i < changed.length; i += 2) changed[i] = 3 * changed[i] + 0.01f;

            float[] original = tiny.forwardLogits(SEQ, ForwardTaps.NONE); // the last layer stays cached (pinned)
            tiny.overrideWeight(name, changed);                               // patches that expert's rows in place
            Tensor patched = tiny.weights().experts(layer).gateUp().get(expert);
            float[] rows = cpu.download(patched);
            int inter = c.expertIntermediateSize(), hidden = c.hiddenSize();
            assertArrayEquals(changed, Arrays.copyOfRange(rows, inter * hidden, 2 * inter * hidden), "up is the second half");

            big.forwardLogits(SEQ, ForwardTaps.NONE);
            big.overrideWeight(name, changed);
            float[] expected = big.forwardLogits(SEQ, ForwardTaps.NONE);
            assertFalse(Arrays.equals(original, expected), "the override changes the output");
            assertArrayEquals(expected, tiny.forwardLogits(SEQ, ForwardTaps.NONE), "evicted and loaded again");
            assertTrue(patched.isClosed(), "the patched stack was evicted in between");
            assertArrayEquals(expected, tiny.forwardLogits(SEQ, ForwardTaps.NONE), "and after a second round trip");
        }
    }

    private static int firstMoeLayer(ModelConfig c) {
        for (int l = 0; l < c.layerCount(); l++) if (c.isMoeLayer(l)) return l;
        throw new AssertionError("no MoE layer");
    }

    private static int lastMoeLayer(ModelConfig c) {
        for (int l = c.layerCount() - 1; l >= 0; l--) if (c.isMoeLayer(l)) return l;
        throw new AssertionError("no MoE layer");
    }
}
