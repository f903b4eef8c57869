package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import org.routecal.compute.Backend;
import org.routecal.compute.ExpertGroups;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.family.MoeFamily;
import org.routecal.compute.RouterRule;

/**
 * The feed-forward half of a decoder layer: h += ffn(post_attention_layernorm(h)), where ffn is a routed MoE block
 * (plus a shared expert where the family has one) or a dense SwiGLU MLP. The routed block runs as grouped products:
 * router → top-k → slots grouped by expert → gate_up of every expert in one grouped product → silu·mul → down →
 * the routing-weighted combine into the residual stream.
 */
final class FeedForwardBlock {
    private final ModelConfig config;
    private final MoeFamily.Tensors names;
    private final ModelWeights weights;
    private final Backend backend;
    private final RouterRule rule;

    FeedForwardBlock(ModelConfig config, ModelWeights weights) {
        this.config = config;
        this.names = config.family().tensors();
        this.weights = weights;
        this.backend = weights.backend();
        this.rule = config.family().routerRule(config);
    }

    RouterRule routerRule() { return rule; }

    void forward(int layer, Activations act, ForwardTaps taps) {
        int tokens = act.tokens(), hidden = config.hiddenSize();
        try (Tensor x = backend.allocate(TensorType.F32, tokens, hidden, "block input")) { // [T, H]
            backend.rmsNorm(act.hidden, weights.vector(MoeFamily.name(names.postAttentionNorm(), layer, 0), hidden),
                    config.rmsNormEps(), x);
            taps.blockInput(layer, act, x);
            if (config.isMoeLayer(layer)) {
                moe(layer, act, x, taps);
                if (config.family().hasSharedExpert()) sharedExpert(layer, act, x, taps);
            } else {
                swiglu(layer, act, x, taps, names.denseGate(), names.denseUp(), names.denseDown(), config.intermediateSize(), act.hidden);
            }
        }
    }

    private void moe(int layer, Activations act, Tensor x, ForwardTaps taps) {
        int tokens = act.tokens(), hidden = config.hiddenSize(), experts = config.expertCount(), k = rule.topK();
        int inter = config.expertIntermediateSize(), slots = tokens * k;
        String routerName = MoeFamily.name(names.router(), layer, 0);
        taps.linearInput(layer, act, new String[]{routerName.substring(0, routerName.length() - ".weight".length())}, x);
        try (Tensor logits = backend.allocate(TensorType.F32, tokens, experts, "router logits");   // [T, E]
             Tensor ids = backend.allocate(TensorType.I32, tokens, k, "topk ids");                  // [T, k]
             Tensor w = backend.allocate(TensorType.F32, tokens, k, "topk weights")) {              // [T, k]
            Tensor routerBias = config.family().router().logitBias() ? weights.vector(MoeFamily.name(names.routerBias(), layer, 0), experts) : null;
            backend.linear(x, weights.matrix(routerName, experts, hidden), routerBias, logits, false);
            Tensor bias = names.routerScoreCorrectionBias() != null && rule.scoreCorrectionBias()
                    ? weights.vector(MoeFamily.name(names.routerScoreCorrectionBias(), layer, 0), experts) : null;
            backend.routerTopk(logits, bias, rule, ids, w);
            taps.routing(layer, act, x, ids, w, logits);

            ModelWeights.Experts ew = weights.experts(layer);
            try (ExpertGroups groups = backend.groupByExpert(ids, experts);
                 Tensor gateUp = backend.allocate(TensorType.F32, slots, 2 * inter, "experts gate_up");  // [T·k, 2I] sorted
                 Tensor a = backend.allocate(TensorType.F32, slots, inter, "experts act");                // [T·k, I]
                 Tensor y = backend.allocate(TensorType.F32, slots, hidden, "experts out")) {             // [T·k, H]
                try (ExpertInputs in = ExpertInputs.of(backend, rule, x, groups, w)) {
                    ew.gateUp(backend, in.rows(), in.gather(), groups, gateUp);
                    ew.activate(backend, gateUp, a);
                    ew.down(backend, a, groups, y);
                    taps.routedExperts(layer, act, groups, in, gateUp, a, y);
                    if (in.gather()) {
                        backend.combine(y, groups, w, act.hidden);
                    } else { // Llama 4: the routing weight went into the (non-linear) expert's input; outputs join with weight 1
                        try (Tensor ones = backend.upload(ones(slots), tokens, k, TensorType.F32, "unit weights")) {
                            backend.combine(y, groups, ones, act.hidden);
                        }
                    }
                }
            }
        }
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    private void sharedExpert(int layer, Activations act, Tensor x, ForwardTaps taps) {
        int tokens = act.tokens(), hidden = config.hiddenSize();
        if (config.family().sharedExpert().gate() != org.routecal.model.family.SharedExpert.Gate.SIGMOID) {
            swiglu(layer, act, x, taps, names.sharedGate(), names.sharedUp(), names.sharedDown(), config.expertSharedIntermediateSize(),
                    act.hidden);
            return;
        }
        try (Tensor shared = backend.allocate(TensorType.F32, tokens, hidden, "shared expert out");
             Tensor gate = backend.allocate(TensorType.F32, tokens, 1, "shared expert gate")) {
            swiglu(layer, act, x, taps, names.sharedGate(), names.sharedUp(), names.sharedDown(), config.expertSharedIntermediateSize(),
                    shared);
            String gateName = MoeFamily.name(names.sharedExpertGate(), layer, 0);
            taps.linearInput(layer, act, new String[]{gateName.substring(0, gateName.length() - ".weight".length())}, x);
            backend.linear(x, weights.matrix(gateName, 1, hidden), null, gate, false);
            backend.scaleRowsBySigmoid(shared, gate);
            backend.add(act.hidden, shared);
        }
    }

    /** out += down(silu(gate(x)) · up(x)) over all tokens (dense MLP or shared expert); gate and up run as one product. */
    private void swiglu(int layer, Activations act, Tensor x, ForwardTaps taps, String gateT, String upT, String downT, int inter,
                        Tensor out) {
        int tokens = act.tokens(), hidden = config.hiddenSize();
        String gate = MoeFamily.name(gateT, layer, 0), up = MoeFamily.name(upT, layer, 0), down = MoeFamily.name(downT, layer, 0);
        taps.linearInput(layer, act, new String[]{gate, up}, x);
        try (Tensor gu = backend.allocate(TensorType.F32, tokens, 2 * inter, "gate_up");
             Tensor a = backend.allocate(TensorType.F32, tokens, inter, "act")) {
            backend.linear(x, weights.fusedGateUp(gate, up, inter, hidden), null, gu, false);
            backend.siluMul(gu, a);
            taps.linearInput(layer, act, new String[]{down}, a);
            backend.linear(a, weights.matrix(down + ".weight", hidden, inter), null, out, true);
        }
    }
}
