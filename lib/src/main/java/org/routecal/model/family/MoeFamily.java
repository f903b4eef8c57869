package org.routecal.model.family;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A declarative description of one MoE architecture family (STYLE H1): names, layout and rules, no code. One generic
 * loader and one forward pass walk this table. Tensor-name templates use {@code {layer}} and {@code {expert}}.
 * A template that is null means the family has no such tensor.
 *
 * @param name              family name used in messages and manifests
 * @param modelTypes        HF {@code model_type} values this table serves
 * @param configAliases     our config key → HF keys to try in order (transformers 4 and 5 spellings)
 * @param attention         attention variant and where its norms sit
 * @param tensors           tensor-name templates (see {@link Tensors})
 * @param experts           expert storage layout
 * @param router            the router rule family; resolved against the config by {@link #routerRule}
 * @param sharedExpertGate  how a shared expert's output is gated (NONE when there is no shared expert)
 * @param denseLayers       which layers use a dense MLP instead of an MoE block
 * @param runnable          false when the table describes the family but our forward pass does not run it yet;
 *                          {@code notRunnableReason} says why
 */
public record MoeFamily(String name, List<String> modelTypes, Map<String, List<String>> configAliases,
                        Attention attention, Tensors tensors, ExpertLayout experts, RouterKind router,
                        SharedGate sharedExpertGate, DenseLayerRule denseLayers, boolean runnable, String notRunnableReason) {

    /** Attention variants. MLA (DeepSeek) is described but not run. */
    public enum AttentionKind { MHA_GQA, MLA }

    /** Where a q/k RMSNorm sits: none; per head over head_dim (Qwen3); over the whole projection (OLMoE). */
    public enum QkNorm { NONE, PER_HEAD, WHOLE_PROJECTION }

    public record Attention(AttentionKind kind, QkNorm qkNorm, boolean qkvBiasFromConfig, boolean qkvBiasAlways) {}

    /** How the router rule follows from the config. */
    public enum RouterKind {
        /** softmax, top-k, normalize per config {@code norm_topk_prob} (default false) */
        SOFTMAX_TOPK_CONFIG_NORM,
        /** softmax, top-k, always normalized (Mixtral) */
        SOFTMAX_TOPK_ALWAYS_NORM,
        /** DeepSeek-V3 sigmoid + bias + groups + scaling */
        SIGMOID_GROUPED
    }

    public enum SharedGate { NONE, SIGMOID_LINEAR, UNGATED }

    /**
     * Dense-layer rule: a layer is dense when it is listed in {@code mlp_only_layers}, when
     * {@code (layer + 1) % decoder_sparse_step != 0}, or when {@code layer < first_k_dense_replace}.
     */
    public record DenseLayerRule(boolean mlpOnlyLayers, boolean decoderSparseStep, boolean firstKDenseReplace) {}

    /** Tensor-name templates; HF checkpoint names (STYLE H14). Module name = tensor name without ".weight"/".bias". */
    public record Tensors(String embed, String inputNorm, String postAttentionNorm,
                          String qProj, String kProj, String vProj, String oProj, String qNorm, String kNorm,
                          String router, String routerBias,
                          String expertGate, String expertUp, String expertDown,
                          String sharedGate, String sharedUp, String sharedDown, String sharedExpertGate,
                          String denseGate, String denseUp, String denseDown,
                          String finalNorm, String lmHead) {}

    public RouterRule routerRule(org.routecal.model.ModelConfig config) {
        return switch (router) {
            case SOFTMAX_TOPK_CONFIG_NORM -> RouterRule.softmaxTopK(config.expertUsedCount(), config.normTopKProb());
            case SOFTMAX_TOPK_ALWAYS_NORM -> RouterRule.softmaxTopK(config.expertUsedCount(), true);
            case SIGMOID_GROUPED -> RouterRule.sigmoidGroupedTopK(config.expertUsedCount(), config.expertGroupCount(),
                    config.expertGroupUsedCount(), config.normTopKProb(), config.routedScalingFactor());
        };
    }

    public boolean hasSharedExpert() { return sharedExpertGate != SharedGate.NONE; }

    public Optional<String> modelTypeMatch(String modelType) {
        return modelTypes.stream().filter(t -> t.equals(modelType)).findFirst();
    }

    /** Fills {@code {layer}} and {@code {expert}} in a template. */
    public static String name(String template, int layer, int expert) {
        return template.replace("{layer}", Integer.toString(layer)).replace("{expert}", Integer.toString(expert));
    }
}
