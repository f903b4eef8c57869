package org.routecal.demo;

import org.routecal.io.safetensors.DType;
import org.routecal.io.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the demo Qwen3-MoE checkpoint with <em>planted routing</em>: every token belongs to a {@link TokenClass}, and
 * in every layer each class has its own group of experts that its tokens go to.
 *
 * <p>How the routing survives all layers: the hidden space is split into three orthonormal subspaces, C (one "class
 * direction" u[c] per class), N ("token noise") and M ("mixing", the rest). A token's embedding is
 * {@code A · u[class] + noise in N}. Attention's {@code o_proj} and every expert's {@code down_proj} write only into
 * M, so the C and N parts of the residual stream stay the embedding's through the whole stack. Each router row is
 * {@code α · u[group class] + cross-talk to related classes + random in N + (weaker) random in M}: the class term
 * picks the group, the N term (fixed per token, fresh per layer) picks experts within it, and the M term (what
 * attention mixed in from the context) adds context dependence and lets some tokens stray, so routing is planted but
 * not trivial. The LM head favours the current token's class plus noise, a non-degenerate next-token distribution.
 * Which experts form a class's group is shuffled per layer.
 *
 * <p>Deterministic: {@link DemoRandom} and strict IEEE arithmetic only, so the files are the same bytes everywhere.
 */
public final class DemoModelBuilder {
    private DemoModelBuilder() {}

    /** The architecture and planting strengths. */
    public record Spec(int hiddenSize, int layers, int heads, int kvHeads, int headDim, int experts, int topK,
                       int moeIntermediateSize, int vocabSize, long seed, int noiseDims,
                       double embedClass, double embedNoise, double routerClass, double routerCrossTalk,
                       double routerNoise, double routerContext, double attnOutScale, double expertOutScale,
                       double lmHeadClass, double lmHeadNoise) {}

    public static final Spec DEFAULT = new Spec(64, 4, 4, 2, 16, 16, 2, 32, 4096, 20261123L, 25,
            1.0, 0.12, 0.36, 0.12, 1.0, 0.3, 0.2, 0.3, 1.0, 0.5);

    /** Experts per class, in {@link TokenClass} order (sums to 16 experts). */
    static final int[] GROUP_SIZES = {3, 3, 3, 2, 2, 2, 1};
    /** Classes whose router rows leak into each other's group (symmetric): scripts alike, math with code. */
    private static final TokenClass[][] RELATED = {{TokenClass.GREEK, TokenClass.CYRILLIC},
            {TokenClass.MATH, TokenClass.CODE}, {TokenClass.LATIN, TokenClass.OTHER}};

    /** Writes {@code config.json}, {@code model.safetensors} and {@code planted_routing.json} into {@code dir}. */
    public static void build(Path dir, DemoTokenizerBuilder.Vocabulary vocab, Spec spec) throws IOException {
        if (vocab.size() > spec.vocabSize()) throw new IllegalArgumentException("vocabulary larger than vocab_size");
        int[] tokenClass = new int[spec.vocabSize()];
        for (int t = 0; t < spec.vocabSize(); t++) {
            // Padding ids beyond the tokenizer (as in Qwen's padded vocab) are never produced; give them OTHER.
            tokenClass[t] = t < vocab.size() ? TokenClass.of(vocab.bytes(t), vocab.isSpecial(t)).ordinal() : TokenClass.OTHER.ordinal();
        }
        Files.createDirectories(dir);
        // One file, BF16 (round to nearest even), tensors in the order added; renamed into place on close.
        SafetensorsWriter st = SafetensorsWriter.toFile(dir.resolve("model.safetensors"), Map.of("format", "pt"));
        List<Map<String, List<Integer>>> groups;
        try {
            groups = addTensors(st, spec, tokenClass);
        } catch (RuntimeException | Error e) {
            st.abort();
            throw e;
        }
        st.close();
        Files.write(dir.resolve("config.json"), DemoJson.bytes(config(spec, vocab)));
        Files.write(dir.resolve("generation_config.json"), DemoJson.bytes(generationConfig(vocab)));
        Files.write(dir.resolve("planted_routing.json"), DemoJson.bytes(plantedRouting(groups, tokenClass, vocab.size())));
    }

    /** Generates and adds every tensor; returns each layer's class → expert group map. */
    private static List<Map<String, List<Integer>>> addTensors(SafetensorsWriter st, Spec spec, int[] tokenClass) {
        int h = spec.hiddenSize(), classes = TokenClass.values().length;
        DemoRandom root = new DemoRandom(spec.seed());
        double[][] basis = orthonormal(h, h, root.fork("basis"));                                // [hidden][hidden]
        double[][] u = Arrays.copyOfRange(basis, 0, classes);                                     // C
        double[][] noise = Arrays.copyOfRange(basis, classes, classes + spec.noiseDims());        // N
        double[][] mixing = Arrays.copyOfRange(basis, classes + spec.noiseDims(), h);             // M
        double[][] fixed = Arrays.copyOfRange(basis, 0, classes + spec.noiseDims());              // C ∪ N
        add(st, "model.embed_tokens.weight", new long[] {spec.vocabSize(), h},
                classRows(tokenClass, u, spec.embedClass(), noise, spec.embedNoise(), root.fork("embed_tokens")));
        add(st, "lm_head.weight", new long[] {spec.vocabSize(), h},
                classRows(tokenClass, u, spec.lmHeadClass(), basis, spec.lmHeadNoise(), root.fork("lm_head")));
        add(st, "model.norm.weight", new long[] {h}, ones(h));
        List<Map<String, List<Integer>>> groups = new ArrayList<>();
        int q = spec.heads() * spec.headDim(), kv = spec.kvHeads() * spec.headDim(), m = spec.moeIntermediateSize();
        double inStd = 1.0 / StrictMath.sqrt(h);
        for (int layer = 0; layer < spec.layers(); layer++) {
            DemoRandom rnd = root.fork("layer-" + layer);
            String p = "model.layers." + layer + ".";
            add(st, p + "input_layernorm.weight", new long[] {h}, ones(h));
            add(st, p + "post_attention_layernorm.weight", new long[] {h}, ones(h));
            add(st, p + "self_attn.q_proj.weight", new long[] {q, h}, gaussian(q * h, inStd, rnd));
            add(st, p + "self_attn.k_proj.weight", new long[] {kv, h}, gaussian(kv * h, inStd, rnd));
            add(st, p + "self_attn.v_proj.weight", new long[] {kv, h}, gaussian(kv * h, inStd, rnd));
            add(st, p + "self_attn.o_proj.weight", new long[] {h, q},
                    projectColumnsOff(gaussian(h * q, spec.attnOutScale() / StrictMath.sqrt(q), rnd), h, q, fixed));
            add(st, p + "self_attn.q_norm.weight", new long[] {spec.headDim()}, ones(spec.headDim()));
            add(st, p + "self_attn.k_norm.weight", new long[] {spec.headDim()}, ones(spec.headDim()));
            int[] expertClass = expertClasses(spec.experts(), rnd);
            groups.add(groupMap(expertClass));
            add(st, p + "mlp.gate.weight", new long[] {spec.experts(), h}, router(expertClass, u, noise, mixing, spec, rnd));
            for (int e = 0; e < spec.experts(); e++) {
                // Per-expert 2-D tensors: the layout real Qwen3-MoE checkpoints and transformers 5's save_pretrained use.
                String ep = p + "mlp.experts." + e + ".";
                add(st, ep + "gate_proj.weight", new long[] {m, h}, gaussian(m * h, inStd, rnd));
                add(st, ep + "up_proj.weight", new long[] {m, h}, gaussian(m * h, inStd, rnd));
                add(st, ep + "down_proj.weight", new long[] {h, m},
                        projectColumnsOff(gaussian(h * m, spec.expertOutScale() / StrictMath.sqrt(m), rnd), h, m, fixed));
            }
        }
        return groups;
    }

    private static void add(SafetensorsWriter st, String name, long[] shape, float[] values) {
        st.addFloat(name, DType.BF16, shape, values);
    }

    /** [vocab, hidden] rows {@code scale · u[class] + std · (Gaussian in the span of noiseDirs)}. */
    private static float[] classRows(int[] tokenClass, double[][] u, double scale, double[][] noiseDirs, double std,
                                     DemoRandom rnd) {
        int h = u[0].length;
        float[] w = new float[tokenClass.length * h];
        for (int t = 0; t < tokenClass.length; t++) {
            double[] row = randomIn(noiseDirs, std, rnd);
            for (int i = 0; i < h; i++) w[t * h + i] = (float) (scale * u[tokenClass[t]][i] + row[i]);
        }
        return w;
    }

    /** {@code std · Σ_k g_k dirs[k]} with g ~ N(0, 1): per-coordinate std {@code std} inside the subspace. */
    private static double[] randomIn(double[][] dirs, double std, DemoRandom rnd) {
        double[] v = new double[dirs[0].length];
        for (double[] d : dirs) {
            double g = std * rnd.nextGaussian();
            for (int i = 0; i < v.length; i++) v[i] += g * d[i];
        }
        return v;
    }

    /** Shuffles the experts and deals them to the classes by {@link #GROUP_SIZES}: [experts] → class ordinal. */
    private static int[] expertClasses(int experts, DemoRandom rnd) {
        int[] perm = new int[experts];
        for (int i = 0; i < experts; i++) perm[i] = i;
        for (int i = experts - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int[] cls = new int[experts];
        int k = 0;
        for (int c = 0; c < GROUP_SIZES.length; c++) for (int n = 0; n < GROUP_SIZES[c]; n++) cls[perm[k++]] = c;
        if (k != experts) throw new IllegalArgumentException("GROUP_SIZES must sum to the expert count " + experts);
        return cls;
    }

    /** [experts, hidden]: {@code α u[c] + γ Σ related u[c'] + (β_N · random in N + β_M · random in M) / √hidden}. */
    private static float[] router(int[] expertClass, double[][] u, double[][] noise, double[][] mixing, Spec spec,
                                  DemoRandom rnd) {
        int h = u[0].length;
        float[] w = new float[expertClass.length * h];
        for (int e = 0; e < expertClass.length; e++) {
            int c = expertClass[e];
            double[] inN = randomIn(noise, spec.routerNoise() / StrictMath.sqrt(h), rnd);
            double[] inM = randomIn(mixing, spec.routerContext() / StrictMath.sqrt(h), rnd);
            for (int i = 0; i < h; i++) {
                double v = spec.routerClass() * u[c][i] + inN[i] + inM[i];
                for (TokenClass[] pair : RELATED) {
                    if (pair[0].ordinal() == c) v += spec.routerCrossTalk() * u[pair[1].ordinal()][i];
                    if (pair[1].ordinal() == c) v += spec.routerCrossTalk() * u[pair[0].ordinal()][i];
                }
                w[e * h + i] = (float) v;
            }
        }
        return w;
    }

    /** Removes from every column of {@code w} ([rows = hidden, cols] row-major) its components along {@code dirs}. */
    private static float[] projectColumnsOff(float[] w, int rows, int cols, double[][] dirs) {
        for (int j = 0; j < cols; j++) {
            for (double[] dir : dirs) {
                double dot = 0;
                for (int i = 0; i < rows; i++) dot += w[i * cols + j] * dir[i];
                for (int i = 0; i < rows; i++) w[i * cols + j] = (float) (w[i * cols + j] - dot * dir[i]);
            }
        }
        return w;
    }

    /** Gram–Schmidt on Gaussian vectors: [n][dim], orthonormal. */
    static double[][] orthonormal(int n, int dim, DemoRandom rnd) {
        double[][] u = new double[n][dim];
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < dim; i++) u[k][i] = rnd.nextGaussian();
            for (int j = 0; j < k; j++) {
                double dot = 0;
                for (int i = 0; i < dim; i++) dot += u[k][i] * u[j][i];
                for (int i = 0; i < dim; i++) u[k][i] -= dot * u[j][i];
            }
            double norm = 0;
            for (int i = 0; i < dim; i++) norm += u[k][i] * u[k][i];
            norm = StrictMath.sqrt(norm);
            for (int i = 0; i < dim; i++) u[k][i] /= norm;
        }
        return u;
    }

    private static float[] gaussian(int n, double std, DemoRandom rnd) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) (std * rnd.nextGaussian());
        return w;
    }

    private static float[] ones(int n) {
        float[] w = new float[n];
        Arrays.fill(w, 1f);
        return w;
    }

    private static Map<String, List<Integer>> groupMap(int[] expertClass) {
        Map<String, List<Integer>> m = new LinkedHashMap<>();
        for (TokenClass c : TokenClass.values()) m.put(c.jsonName(), new ArrayList<>());
        for (int e = 0; e < expertClass.length; e++) m.get(TokenClass.values()[expertClass[e]].jsonName()).add(e);
        return m;
    }

    /** Key names and values as in Qwen3-30B-A3B's config.json (transformers 4 spelling, which 5 also reads). */
    private static Map<String, Object> config(Spec s, DemoTokenizerBuilder.Vocabulary vocab) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("Qwen3MoeForCausalLM"));
        c.put("attention_bias", false);
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", vocab.id("<|endoftext|>"));
        c.put("decoder_sparse_step", 1);
        c.put("eos_token_id", vocab.id("<|im_end|>"));
        c.put("head_dim", s.headDim());
        c.put("hidden_act", "silu");
        c.put("hidden_size", s.hiddenSize());
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", 2 * s.hiddenSize()); // unused: every layer is MoE (mlp_only_layers empty)
        c.put("max_position_embeddings", 4096);
        c.put("max_window_layers", s.layers());
        c.put("mlp_only_layers", List.of());
        c.put("model_type", "qwen3_moe");
        c.put("moe_intermediate_size", s.moeIntermediateSize());
        c.put("norm_topk_prob", true);
        c.put("num_attention_heads", s.heads());
        c.put("num_experts", s.experts());
        c.put("num_experts_per_tok", s.topK());
        c.put("num_hidden_layers", s.layers());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("output_router_logits", false);
        c.put("rms_norm_eps", 1e-6);
        c.put("rope_scaling", null);
        c.put("rope_theta", 1000000.0);
        c.put("router_aux_loss_coef", 0.001);
        c.put("sliding_window", null);
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", "bfloat16");
        c.put("transformers_version", "4.51.0");
        c.put("use_cache", true);
        c.put("use_sliding_window", false);
        c.put("vocab_size", s.vocabSize());
        return c;
    }

    private static Map<String, Object> generationConfig(DemoTokenizerBuilder.Vocabulary vocab) {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("bos_token_id", vocab.id("<|endoftext|>"));
        g.put("eos_token_id", List.of(vocab.id("<|im_end|>"), vocab.id("<|endoftext|>")));
        g.put("pad_token_id", vocab.id("<|endoftext|>"));
        g.put("do_sample", false);
        return g;
    }

    /**
     * Sidecar {@code planted_routing.json} (format {@code routecal.demo.planted_routing} v1): the class names, the
     * expert group of every class in every layer, and the class of every token id (index into {@code classes}).
     */
    private static Map<String, Object> plantedRouting(List<Map<String, List<Integer>>> groups, int[] tokenClass, int tokens) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "routecal.demo.planted_routing");
        m.put("format_version", 1);
        List<String> names = new ArrayList<>();
        for (TokenClass c : TokenClass.values()) names.add(c.jsonName());
        m.put("classes", names);
        m.put("groups_per_layer", groups);
        List<Integer> cls = new ArrayList<>();
        for (int t = 0; t < tokenClass.length; t++) cls.add(tokenClass[t]);
        m.put("token_class", cls);
        m.put("tokenizer_size", tokens);
        return m;
    }
}
