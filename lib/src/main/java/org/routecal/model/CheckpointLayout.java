package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import org.routecal.RoutecalException;

import org.routecal.model.family.ExpertLayout;
import org.routecal.model.family.MoeFamily;
import org.routecal.model.family.RouterSpec;

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
 * every key of a fixture checkpoint is claimed. Shapes are as stored: Linear [out, in]; packed experts
 * [experts, in, out] when the layout is transposed.
 */
public final class CheckpointLayout {
    private CheckpointLayout() {}

    /** Required tensor name → shape. Biases appear only where the family/config says so. */
    public static Map<String, long[]> expected(ModelConfig c) { return expected(c, false); }

    /**
     * True when a packed family's checkpoint holds its experts as per-expert Linears under the export names (a
     * compressed-tensors checkpoint routecal or llm-compressor wrote) rather than as the 3-D tensors.
     */
    public static boolean expertsExported(ModelConfig c, TensorSource source) {
        if (!c.family().experts().packed3d()) return false;
        for (int l = 0; l < c.layerCount(); l++) {
            if (c.isMoeLayer(l)) return source.contains(MoeFamily.name(c.family().tensors().exportExpertDown(), l, 0) + ".weight");
        }
        return false;
    }

    /** As {@link #expected(ModelConfig)}, a packed family's experts per expert under the export names when {@code expertsExported}. */
    public static Map<String, long[]> expected(ModelConfig c, boolean expertsExported) {
        MoeFamily.Tensors n = c.family().tensors();
        Map<String, long[]> m = new LinkedHashMap<>();
        long h = c.hiddenSize();
        m.put(n.embed(), new long[]{c.vocabSize(), h});
        for (int l = 0; l < c.layerCount(); l++) {
            m.put(MoeFamily.name(n.inputNorm(), l, 0), new long[]{h});
            m.put(MoeFamily.name(n.postAttentionNorm(), l, 0), new long[]{h});
            attention(m, c, n, l);
            if (c.isMoeLayer(l)) moe(m, c, n, l, expertsExported);
            else mlp(m, n.denseGate(), n.denseUp(), n.denseDown(), l, c.intermediateSize(), h);
        }
        m.put(n.finalNorm(), new long[]{h});
        if (!c.tieWordEmbeddings()) m.put(n.lmHead(), new long[]{c.vocabSize(), h});
        return m;
    }

    private static void attention(Map<String, long[]> m, ModelConfig c, MoeFamily.Tensors n, int l) {
        long h = c.hiddenSize(), heads = c.headCount();
        boolean inBias = c.qkvBias(), outBias = c.outputBias();
        if (c.mla() != null) {
            ModelConfig.Mla a = c.mla();
            long qWidth = heads * (a.qkNopeHeadDim() + a.qkRopeHeadDim());
            if (a.qLoraRank() > 0) {
                linear(m, n.qAProj(), l, 0, a.qLoraRank(), h, inBias);
                m.put(MoeFamily.name(n.qANorm(), l, 0), new long[]{a.qLoraRank()});
                linear(m, n.qBProj(), l, 0, qWidth, a.qLoraRank(), false);
            } else {
                linear(m, n.qProj(), l, 0, qWidth, h, false);
            }
            linear(m, n.kvAProj(), l, 0, a.kvLoraRank() + a.qkRopeHeadDim(), h, inBias);
            m.put(MoeFamily.name(n.kvANorm(), l, 0), new long[]{a.kvLoraRank()});
            linear(m, n.kvBProj(), l, 0, heads * (a.qkNopeHeadDim() + a.vHeadDim()), a.kvLoraRank(), false);
            linear(m, n.oProj(), l, 0, h, heads * a.vHeadDim(), outBias);
            return;
        }
        long hd = c.headDim(), qw = heads * hd, kvw = (long) c.headCountKv() * hd;
        linear(m, n.qProj(), l, 0, qw, h, inBias);
        linear(m, n.kProj(), l, 0, kvw, h, inBias);
        linear(m, n.vProj(), l, 0, kvw, h, inBias);
        linear(m, n.oProj(), l, 0, h, qw, outBias);
        if (c.qkNorm()) {
            switch (c.family().attention().qkNorm()) {
                case PER_HEAD -> { m.put(MoeFamily.name(n.qNorm(), l, 0), new long[]{hd}); m.put(MoeFamily.name(n.kNorm(), l, 0), new long[]{hd}); }
                case WHOLE_PROJECTION -> { m.put(MoeFamily.name(n.qNorm(), l, 0), new long[]{qw}); m.put(MoeFamily.name(n.kNorm(), l, 0), new long[]{kvw}); }
                case PER_HEAD_L2_ON_ROPE_LAYERS, NONE -> { } // weightless, or none
            }
        }
        if (c.family().attention().sinks()) m.put(MoeFamily.name(n.sinks(), l, 0), new long[]{heads});
    }

    private static void moe(Map<String, long[]> m, ModelConfig c, MoeFamily.Tensors n, int l, boolean expertsExported) {
        long h = c.hiddenSize(), e = c.expertCount(), inter = c.expertIntermediateSize();
        MoeFamily f = c.family();
        m.put(MoeFamily.name(n.router(), l, 0), new long[]{e, h});
        if (f.router().logitBias()) m.put(MoeFamily.name(n.routerBias(), l, 0), new long[]{e});
        if (f.router().kind() == RouterSpec.Kind.SIGMOID_GROUPED) m.put(MoeFamily.name(n.routerScoreCorrectionBias(), l, 0), new long[]{e});
        ExpertLayout x = f.experts();
        if (x.packed3d() && expertsExported) {
            for (int k = 0; k < e; k++) {
                linear(m, n.exportExpertGate(), l, k, inter, h, x.bias());
                linear(m, n.exportExpertUp(), l, k, inter, h, x.bias());
                linear(m, n.exportExpertDown(), l, k, h, inter, x.bias());
            }
        } else if (x.packed3d()) {
            m.put(MoeFamily.name(n.expertGateUp(), l, 0), x.transposed() ? new long[]{e, h, 2 * inter} : new long[]{e, 2 * inter, h});
            m.put(MoeFamily.name(n.expertDown(), l, 0), x.transposed() ? new long[]{e, inter, h} : new long[]{e, h, inter});
            if (x.bias()) {
                m.put(MoeFamily.name(n.expertGateUpBias(), l, 0), new long[]{e, 2 * inter});
                m.put(MoeFamily.name(n.expertDownBias(), l, 0), new long[]{e, h});
            }
        } else {
            for (int k = 0; k < e; k++) {
                linear(m, n.expertGate(), l, k, inter, h, x.bias());
                linear(m, n.expertUp(), l, k, inter, h, x.bias());
                linear(m, n.expertDown(), l, k, h, inter, x.bias());
            }
        }
        if (f.hasSharedExpert()) {
            mlp(m, n.sharedGate(), n.sharedUp(), n.sharedDown(), l, c.expertSharedIntermediateSize(), h);
            if (n.sharedExpertGate() != null) m.put(MoeFamily.name(n.sharedExpertGate(), l, 0), new long[]{1, h});
        }
    }

    private static void mlp(Map<String, long[]> m, String gate, String up, String down, int l, long inter, long h) {
        linear(m, gate, l, 0, inter, h, false);
        linear(m, up, l, 0, inter, h, false);
        linear(m, down, l, 0, h, inter, false);
    }

    private static void linear(Map<String, long[]> m, String template, int layer, int expert, long out, long in, boolean bias) {
        String module = MoeFamily.name(template, layer, expert);
        m.put(module + ".weight", new long[]{out, in});
        if (bias) m.put(module + ".bias", new long[]{out});
    }

    /**
     * Fails with one message listing every missing tensor and shape mismatch (up to 20 of each). The first MoE
     * layer's router is checked before anything else: a config whose expert count disagrees with the checkpoint
     * (or is absurd) fails at once instead of enumerating millions of expert names.
     */
    public static void verify(ModelConfig config, TensorSource source) {
        for (int l = 0; l < config.layerCount(); l++) {
            if (!config.isMoeLayer(l)) continue;
            String router = MoeFamily.name(config.family().tensors().router(), l, 0);
            long[] want = {config.expertCount(), config.hiddenSize()};
            if (source.contains(router) && !Arrays.equals(source.shape(router), want)) {
                throw new RoutecalException(source.describe() + ": checkpoint does not match config.json (" + config.family().name()
                        + "): tensor " + router + " has shape " + Arrays.toString(source.shape(router)) + ", config implies " + Arrays.toString(want));
            }
            break;
        }
        List<String> problems = new ArrayList<>();
        for (var e : expected(config, expertsExported(config, source)).entrySet()) {
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

    /**
     * Keys present in the checkpoint that no template claims (should be empty for a well-formed checkpoint). The
     * multi-token-prediction layers some families store after the last decoder layer are claimed, not loaded.
     */
    public static Set<String> unclaimed(ModelConfig config, TensorSource source) {
        Set<String> left = new TreeSet<>(source.names());
        left.removeAll(expected(config, expertsExported(config, source)).keySet());
        if (config.mtpLayerCount() > 0) {
            String norm = config.family().tensors().inputNorm();
            String layerPrefix = norm.substring(0, norm.indexOf("{layer}"));
            for (int l = config.layerCount(); l < config.layerCount() + config.mtpLayerCount(); l++) {
                String p = layerPrefix + l + ".";
                left.removeIf(k -> k.startsWith(p));
            }
        }
        return left;
    }

}
