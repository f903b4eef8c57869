package org.routecal.model.family;

/**
 * Named construction of {@link MoeFamily.Tensors}: one setter per template, plus helpers for the names most
 * families share ({@link #llamaBackbone}, {@link #gqaProjections}, {@link #gatedMlp} prefixes). Unset = absent.
 */
public final class TensorsBuilder {
    private String embed, inputNorm, postAttentionNorm, finalNorm, lmHead;
    private String qProj, kProj, vProj, oProj, qNorm, kNorm, sinks;
    private String qAProj, qANorm, qBProj, kvAProj, kvANorm, kvBProj;
    private String router, routerBias, routerScoreCorrectionBias;
    private String expertGate, expertUp, expertDown, expertGateUp, expertGateUpBias, expertDownBias;
    private String sharedGate, sharedUp, sharedDown, sharedExpertGate;
    private String denseGate, denseUp, denseDown;
    private String exportExpertGate, exportExpertUp, exportExpertDown;

    TensorsBuilder() {}

    /** {@code model.embed_tokens}, {@code model.layers.{layer}.input_layernorm / post_attention_layernorm}, {@code model.norm}, {@code lm_head}. */
    public TensorsBuilder llamaBackbone() {
        embed = "model.embed_tokens.weight";
        inputNorm = "model.layers.{layer}.input_layernorm.weight";
        postAttentionNorm = "model.layers.{layer}.post_attention_layernorm.weight";
        finalNorm = "model.norm.weight";
        lmHead = "lm_head.weight";
        return this;
    }

    /** {@code <prefix>q_proj}, {@code k_proj}, {@code v_proj}, {@code o_proj}. */
    public TensorsBuilder gqaProjections(String prefix) {
        qProj = prefix + "q_proj";
        kProj = prefix + "k_proj";
        vProj = prefix + "v_proj";
        oProj = prefix + "o_proj";
        return this;
    }

    /** Routed experts as one {@code gate_proj}/{@code up_proj}/{@code down_proj} Linear each under {@code prefix} (with {expert}). */
    public TensorsBuilder perExpertMlp(String prefix) {
        expertGate = prefix + "gate_proj";
        expertUp = prefix + "up_proj";
        expertDown = prefix + "down_proj";
        return this;
    }

    /** The shared expert's {@code gate_proj}/{@code up_proj}/{@code down_proj} under {@code prefix}. */
    public TensorsBuilder sharedMlp(String prefix) {
        sharedGate = prefix + "gate_proj";
        sharedUp = prefix + "up_proj";
        sharedDown = prefix + "down_proj";
        return this;
    }

    /** The dense MLP's {@code gate_proj}/{@code up_proj}/{@code down_proj} under {@code prefix}. */
    public TensorsBuilder denseMlp(String prefix) {
        denseGate = prefix + "gate_proj";
        denseUp = prefix + "up_proj";
        denseDown = prefix + "down_proj";
        return this;
    }

    /** Packed experts are exported as {@code <prefix>gate_proj / up_proj / down_proj} per expert ({@code prefix} has {expert}). */
    public TensorsBuilder exportPerExpert(String prefix) {
        exportExpertGate = prefix + "gate_proj";
        exportExpertUp = prefix + "up_proj";
        exportExpertDown = prefix + "down_proj";
        return this;
    }

    public TensorsBuilder embed(String v) { embed = v; return this; }
    public TensorsBuilder inputNorm(String v) { inputNorm = v; return this; }
    public TensorsBuilder postAttentionNorm(String v) { postAttentionNorm = v; return this; }
    public TensorsBuilder finalNorm(String v) { finalNorm = v; return this; }
    public TensorsBuilder lmHead(String v) { lmHead = v; return this; }
    public TensorsBuilder qProj(String v) { qProj = v; return this; }
    public TensorsBuilder kProj(String v) { kProj = v; return this; }
    public TensorsBuilder vProj(String v) { vProj = v; return this; }
    public TensorsBuilder oProj(String v) { oProj = v; return this; }
    public TensorsBuilder qNorm(String v) { qNorm = v; return this; }
    public TensorsBuilder kNorm(String v) { kNorm = v; return this; }
    public TensorsBuilder sinks(String v) { sinks = v; return this; }
    public TensorsBuilder qAProj(String v) { qAProj = v; return this; }
    public TensorsBuilder qANorm(String v) { qANorm = v; return this; }
    public TensorsBuilder qBProj(String v) { qBProj = v; return this; }
    public TensorsBuilder kvAProj(String v) { kvAProj = v; return this; }
    public TensorsBuilder kvANorm(String v) { kvANorm = v; return this; }
    public TensorsBuilder kvBProj(String v) { kvBProj = v; return this; }
    public TensorsBuilder router(String v) { router = v; return this; }
    public TensorsBuilder routerBias(String v) { routerBias = v; return this; }
    public TensorsBuilder routerScoreCorrectionBias(String v) { routerScoreCorrectionBias = v; return this; }
    public TensorsBuilder expertGate(String v) { expertGate = v; return this; }
    public TensorsBuilder expertUp(String v) { expertUp = v; return this; }
    public TensorsBuilder expertDown(String v) { expertDown = v; return this; }
    public TensorsBuilder expertGateUp(String v) { expertGateUp = v; return this; }
    public TensorsBuilder expertGateUpBias(String v) { expertGateUpBias = v; return this; }
    public TensorsBuilder expertDownBias(String v) { expertDownBias = v; return this; }
    public TensorsBuilder sharedExpertGate(String v) { sharedExpertGate = v; return this; }

    MoeFamily.Tensors build() {
        return new MoeFamily.Tensors(embed, inputNorm, postAttentionNorm, finalNorm, lmHead,
                qProj, kProj, vProj, oProj, qNorm, kNorm, sinks,
                qAProj, qANorm, qBProj, kvAProj, kvANorm, kvBProj,
                router, routerBias, routerScoreCorrectionBias,
                expertGate, expertUp, expertDown, expertGateUp, expertGateUpBias, expertDownBias,
                sharedGate, sharedUp, sharedDown, sharedExpertGate,
                denseGate, denseUp, denseDown, exportExpertGate, exportExpertUp, exportExpertDown);
    }
}
