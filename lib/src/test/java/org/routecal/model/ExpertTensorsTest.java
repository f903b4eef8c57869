package org.routecal.model;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.compute.Backend;
import org.routecal.compute.Precision;
import org.routecal.compute.Tensor;
import org.routecal.compute.cpu.Backends;
import org.routecal.compute.cpu.CpuBackend;
import org.routecal.model.family.ModelConfig;
import org.routecal.quant.FixtureTensors;

/**
 * The CPU keeps one tensor per expert (no layer-sized array: a DeepSeek-V3 layer's gate/up stack has 7.5·10⁹ elements,
 * over the JVM's array limit); a GPU keeps views of one stack. Both layouts must compute the same thing, bit for bit, on
 * the CPU's own kernels (a CPU backend told to stack is the stacked side), for a per-expert family, a packed one with
 * expert biases (GPT-OSS) and MXFP4 experts; and an override of one expert must survive that expert's eviction.
 */
class ExpertTensorsTest {
    private static final List<int[]> SEQ = List.of(new int[]{1, 5, 9, 200, 17, 3, 77, 4}, new int[]{8, 2, 130});

    private static Path fixture(String family) { return FixtureTensors.DIR.getParent().resolve("models/" + family + "/v1"); }

    private static CpuBackend stackedCpu() {
        return new CpuBackend(Backends.select(), Precision.FP32, "test: one stack per layer") {
            @Override public boolean contiguousExpertStacks() { return true; }
        };
    }

    private static CpuBackend perExpertCpu() { return new CpuBackend(Backends.select(), Precision.FP32, "test"); }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3_moe", "gpt_oss", "gpt_oss_mxfp4", "deepseek_v3"})
    void perExpertTensorsAndOneStackGiveTheSameLogits(String family) {
        Path dir = fixture(family);
        ModelConfig c = ModelConfig.load(dir);
        int layer = firstMoeLayer(c);
        try (Backend perExpert = perExpertCpu(); Backend stacked = stackedCpu();
             MoeModel a = new MoeModel(dir, c, CheckpointSource.open(dir), perExpert, 1L << 30);
             MoeModel b = new MoeModel(dir, c, CheckpointSource.open(dir), stacked, 1L << 30)) {
            float[] expected = b.forwardLogits(SEQ, ForwardTaps.NONE);
            assertArrayEquals(expected, a.forwardLogits(SEQ, ForwardTaps.NONE));

            ModelWeights.Experts own = a.weights().experts(layer), views = b.weights().experts(layer);
            assertEquals(c.expertCount(), own.gateUp().size());
            for (int e = 0; e < c.expertCount(); e++) {
                assertFalse(own.gateUp().get(e).isView(), "expert " + e + " gate_up is a tensor of its own");
                assertFalse(own.down().get(e).isView(), "expert " + e + " down is a tensor of its own");
                assertTrue(views.gateUp().get(e).isView() && views.down().get(e).isView(), "stacked: views of one tensor");
                assertArrayEquals(perExpert.download(own.gateUp().get(e)), stacked.download(views.gateUp().get(e)), "expert " + e);
                assertArrayEquals(perExpert.download(own.down().get(e)), stacked.download(views.down().get(e)), "expert " + e);
            }
            assertSame(own.gateUp().get(0), a.weights().experts(layer).gateUp().get(0), "cached: the same tensors again");
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
        try (Backend cpu = perExpertCpu();
             MoeModel big = new MoeModel(dir, c, CheckpointSource.open(dir), cpu, 1L << 30);
             MoeModel tiny = new MoeModel(dir, c, CheckpointSource.open(dir), cpu, 1)) {
            String name = tiny.weights().expertWeightName(layer, expert, PackedExperts.Projection.UP);
            long[] shape = tiny.weights().shape(name);
            float[] changed = tiny.weights().hostValues(name, shape).clone();
            for (int i = 0; i < changed.length; i += 2) changed[i] = 3 * changed[i] + 0.01f;

            float[] original = tiny.forwardLogits(SEQ, ForwardTaps.NONE); // the last layer stays cached (pinned)
            tiny.overrideWeight(name, changed);                               // patches that expert's tensor in place
            Tensor patched = tiny.weights().experts(layer).gateUp().get(expert);
            float[] rows = cpu.download(patched);
            int inter = c.expertIntermediateSize(), hidden = c.hiddenSize();
            assertArrayEquals(changed, Arrays.copyOfRange(rows, inter * hidden, 2 * inter * hidden), "up is the second half");

            big.forwardLogits(SEQ, ForwardTaps.NONE);
            big.overrideWeight(name, changed);
            float[] expected = big.forwardLogits(SEQ, ForwardTaps.NONE);
            assertFalse(Arrays.equals(original, expected), "the override changes the output");
            assertArrayEquals(expected, tiny.forwardLogits(SEQ, ForwardTaps.NONE), "evicted and loaded again");
            assertTrue(patched.isClosed(), "the patched tensor was evicted in between");
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
