package org.routecal.model;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.routecal.compute.Backend;
import org.routecal.compute.devices.Devices;
import org.routecal.compute.Tensor;

/**
 * Overrides reach every cached form of a tensor: a norm weight already uploaded as a vector (AWQ folds its scales
 * into norms after the layer ran once) is patched, the forward pass sees it, and clearing the overrides restores it.
 */
class ModelWeightsOverrideTest {
    @Test
    void aCachedNormVectorIsPatchedAndRestored() {
        Backend cpu = Devices.cpu();
        try (MoeModel m = MoeModel.load(java.nio.file.Path.of(org.routecal.quant.FixtureTensors.DIR.getParent().resolve("models/qwen3_moe/v1").toString()), cpu)) {
            List<int[]> seq = List.of(new int[]{1, 5, 9, 200, 17, 3});
            float[] before = m.forwardLogits(seq, ForwardTaps.NONE);     // caches model.layers.0.input_layernorm as a vector
            String norm = "model.layers.0.input_layernorm.weight";
            int hidden = m.config().hiddenSize();
            float[] gamma = m.weights().hostValues(norm, hidden);
            float[] doubled = new float[hidden];
            for (int i = 0; i < hidden; i++) doubled[i] = 2 * gamma[i];
            m.overrideWeight(norm, doubled);
            Tensor v = m.weights().vector(norm, hidden);
            assertArrayEquals(doubled, cpu.download(v), "the cached vector holds the override");
            float[] after = m.forwardLogits(seq, ForwardTaps.NONE);
            assertFalse(Arrays.equals(before, after), "the forward pass sees the new norm");
            m.weights().clearOverrides();
            assertArrayEquals(gamma, cpu.download(m.weights().vector(norm, hidden)), "cleared: the source's values again");
            assertArrayEquals(before, m.forwardLogits(seq, ForwardTaps.NONE));
        } finally {
            cpu.close();
        }
    }

    /**
     * A patched tensor evicted from a cache smaller than the model comes back with its override, not the source's
     * values: a quantized layer streamed out and in again stays quantized (the model with a cache that holds
     * everything is the reference).
     */
    @Test
    void anEvictedPatchedTensorKeepsItsOverride() {
        java.nio.file.Path dir = org.routecal.quant.FixtureTensors.DIR.getParent().resolve("models/qwen3_moe/v1");
        Backend cpu = Devices.cpu();
        org.routecal.model.family.ModelConfig c = org.routecal.model.family.ModelConfig.load(dir);
        try (MoeModel big = new MoeModel(dir, c, CheckpointSource.open(dir), cpu, 1L << 30);
             MoeModel tiny = new MoeModel(dir, c, CheckpointSource.open(dir), cpu, 1)) { // keeps only the running layer
            List<int[]> seq = List.of(new int[]{1, 5, 9, 200, 17, 3});
            int last = c.layerCount() - 1;
            String q = "model.layers." + last + ".self_attn.q_proj.weight";
            long[] shape = tiny.weights().source().shape(q);
            float[] w = tiny.weights().hostValues(q, shape);
            float[] changed = w.clone();
            for (int i = 0; i < changed.length; i += 3) changed[i] = -changed[i];
            float[] original = tiny.forwardLogits(seq, ForwardTaps.NONE); // the last layer's tensors stay cached (pinned)
            tiny.overrideWeight(q, changed);                               // patches the cached q_proj in place
            big.forwardLogits(seq, ForwardTaps.NONE);
            big.overrideWeight(q, changed);
            float[] expected = big.forwardLogits(seq, ForwardTaps.NONE);
            assertFalse(Arrays.equals(original, expected), "the override changes the output");
            // layer 0 loads first and evicts the patched last layer; the last layer then loads again
            assertArrayEquals(expected, tiny.forwardLogits(seq, ForwardTaps.NONE));
            assertArrayEquals(expected, tiny.forwardLogits(seq, ForwardTaps.NONE), "and again after a second round trip");
        } finally {
            cpu.close();
        }
    }
}
