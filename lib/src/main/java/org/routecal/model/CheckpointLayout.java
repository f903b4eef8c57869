package org.routecal.model;

import org.routecal.RoutecalException;
import org.routecal.model.family.MoeFamily;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The tensors a config implies, by name and shape, from the family table (nanoGPT's from_pretrained check as code):
 * loading verifies every required tensor is present with its shape before any forward pass, and tests check that
 * every key of a fixture checkpoint is claimed.
 */
public final class CheckpointLayout {
    private CheckpointLayout() {}

    /** Required tensor name → shape. Biases appear only where the family/config says so. */
    public static Map<String, long[]> expected(ModelConfig c) {
        MoeFamily.Tensors n = c.family().tensors();
        Map<String, long[]> m = new LinkedHashMap<>();
        long h = c.hiddenSize(), hd = c.headDim(), qw = (long) c.headCount() * hd, kvw = (long) c.headCountKv() * hd;
        m.put(n.embed(), new long[]{c.vocabSize(), h});
        MoeFamily.Attention a = c.family().attention();
        boolean bias = a.qkvBiasAlways() || (a.qkvBiasFromConfig() && c.attentionBias());
        for (int l = 0; l < c.layerCount(); l++) {
            m.put(MoeFamily.name(n.inputNorm(), l, 0), new long[]{h});
            m.put(MoeFamily.name(n.postAttentionNorm(), l, 0), new long[]{h});
            linear(m, n.qProj(), l, 0, qw, h, bias);
            linear(m, n.kProj(), l, 0, kvw, h, bias);
            linear(m, n.vProj(), l, 0, kvw, h, bias);
            linear(m, n.oProj(), l, 0, h, qw, false);
            switch (a.qkNorm()) {
                case PER_HEAD -> { m.put(MoeFamily.name(n.qNorm(), l, 0), new long[]{hd}); m.put(MoeFamily.name(n.kNorm(), l, 0), new long[]{hd}); }
                case WHOLE_PROJECTION -> { m.put(MoeFamily.name(n.qNorm(), l, 0), new long[]{qw}); m.put(MoeFamily.name(n.kNorm(), l, 0), new long[]{kvw}); }
                case NONE -> { }
            }
            if (c.isMoeLayer(l)) {
                long e = c.expertCount(), inter = c.expertIntermediateSize();
                m.put(MoeFamily.name(n.router(), l, 0), new long[]{e, h});
                for (int x = 0; x < e; x++) {
                    linear(m, n.expertGate(), l, x, inter, h, false);
                    linear(m, n.expertUp(), l, x, inter, h, false);
                    linear(m, n.expertDown(), l, x, h, inter, false);
                }
                if (c.family().hasSharedExpert()) {
                    long si = c.expertSharedIntermediateSize();
                    linear(m, n.sharedGate(), l, 0, si, h, false);
                    linear(m, n.sharedUp(), l, 0, si, h, false);
                    linear(m, n.sharedDown(), l, 0, h, si, false);
                    if (n.sharedExpertGate() != null) m.put(MoeFamily.name(n.sharedExpertGate(), l, 0), new long[]{1, h});
                }
            } else {
                long inter = c.intermediateSize();
                linear(m, n.denseGate(), l, 0, inter, h, false);
                linear(m, n.denseUp(), l, 0, inter, h, false);
                linear(m, n.denseDown(), l, 0, h, inter, false);
            }
        }
        m.put(n.finalNorm(), new long[]{h});
        if (!c.tieWordEmbeddings()) m.put(n.lmHead(), new long[]{c.vocabSize(), h});
        return m;
    }

    private static void linear(Map<String, long[]> m, String template, int layer, int expert, long out, long in, boolean bias) {
        String module = MoeFamily.name(template, layer, expert);
        m.put(module + ".weight", new long[]{out, in});
        if (bias) m.put(module + ".bias", new long[]{out});
    }

    /** Fails with one message listing every missing tensor and shape mismatch (up to 20 of each). */
    public static void verify(ModelConfig config, TensorSource source) {
        List<String> problems = new ArrayList<>();
        for (var e : expected(config).entrySet()) {
            if (!source.contains(e.getKey())) {
                problems.add("missing tensor " + e.getKey());
            } else if (!Arrays.equals(source.shape(e.getKey()), e.getValue())) {
                problems.add("tensor " + e.getKey() + " has shape " + Arrays.toString(source.shape(e.getKey()))
                        + ", config implies " + Arrays.toString(e.getValue()));
            }
            if (problems.size() >= 20) { problems.add("…"); break; }
        }
        if (!problems.isEmpty()) {
            throw new RoutecalException(source.describe() + ": checkpoint does not match config.json ("
                    + config.family().name() + "): " + String.join("; ", problems));
        }
    }

    /** Keys present in the checkpoint that no template claims (should be empty for a well-formed checkpoint). */
    public static Set<String> unclaimed(ModelConfig config, TensorSource source) {
        Set<String> left = new TreeSet<>(source.names());
        left.removeAll(expected(config).keySet());
        return left;
    }
}
