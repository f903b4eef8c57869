package org.routecal.model;

import org.routecal.RoutecalException;
import org.routecal.compute.Ops;
import org.routecal.compute.cpu.Backends;
import org.routecal.model.family.MoeFamily;

import java.nio.file.Path;
import java.util.List;

/**
 * A loaded MoE checkpoint and its CPU forward pass. Weights stay in the (memory-mapped) source and are decoded per
 * layer on demand, so activation memory is O(tokens × hidden) and a model larger than RAM runs layer by layer.
 *
 * <p>The pass is layer-granular ({@link #embed}, {@link #layer}, {@link #logits}) so stage 0 can calibrate layer L on
 * the outputs of already-quantized layers; {@link #forward} runs all of it.
 */
public final class MoeModel implements AutoCloseable {
    private final Path dir;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Ops ops;
    private final AttentionBlock attention;
    private final FeedForwardBlock feedForward;

    public MoeModel(Path dir, ModelConfig config, TensorSource source, Ops ops, long cacheBudgetBytes) {
        var missing = org.routecal.model.family.Feature.missing(config, org.routecal.model.family.Feature.CURRENT_FORWARD);
        if (!missing.isEmpty()) {
            throw new RoutecalException(dir + ": model_type \"" + config.modelType() + "\" (" + config.family().name()
                    + ") is described but cannot run yet: the forward pass lacks " + org.routecal.model.family.Feature.describe(missing));
        }
        this.dir = dir;
        this.config = config;
        this.weights = new ModelWeights(source, cacheBudgetBytes);
        this.ops = ops;
        this.attention = new AttentionBlock(config, weights, ops);
        this.feedForward = new FeedForwardBlock(config, weights, ops);
        CheckpointLayout.verify(config, source);
    }

    /** Loads config.json and the safetensors checkpoint in {@code dir} with the default CPU backend. */
    public static MoeModel load(Path dir) {
        return load(dir, Backends.select());
    }

    public static MoeModel load(Path dir, Ops ops) {
        ModelConfig config = ModelConfig.load(dir);
        long budget = Math.max(256L << 20, Runtime.getRuntime().maxMemory() / 3);
        return new MoeModel(dir, config, CheckpointSource.open(dir), ops, budget);
    }

    public Path dir() { return dir; }

    public ModelConfig config() { return config; }

    public MoeFamily family() { return config.family(); }

    public ModelWeights weights() { return weights; }

    public Ops ops() { return ops; }

    /** Replaces a tensor (e.g. with dequantized quantized values) for every later forward call. */
    public void overrideWeight(String tensorName, float[] values) { weights.override(tensorName, values); }

    /** Token embeddings of a batch of sequences (different lengths allowed), positions from 0. */
    public Activations embed(List<int[]> sequences) {
        int[] lengths = sequences.stream().mapToInt(s -> s.length).toArray();
        return embed(sequences, new int[lengths.length], null);
    }

    private Activations embed(List<int[]> sequences, int[] startPositions, KvCache[] caches) {
        int hidden = config.hiddenSize(), vocab = config.vocabSize();
        int[] lengths = sequences.stream().mapToInt(s -> s.length).toArray();
        for (int len : lengths) if (len == 0) throw new RoutecalException("empty token sequence in a forward batch");
        Activations act = new Activations(hidden, lengths, startPositions, caches);
        float[] table = weights.tensor(config.family().tensors().embed(), vocab, hidden);
        int row = 0;
        for (int[] seq : sequences) {
            for (int id : seq) {
                if (id < 0 || id >= vocab) throw new RoutecalException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
                System.arraycopy(table, id * hidden, act.hidden, row++ * hidden, hidden);
            }
        }
        return act;
    }

    /** Runs decoder layer {@code layer} in place. */
    public void layer(int layer, Activations act, ForwardTaps taps, CalibrationMode mode) {
        attention.forward(layer, act, taps);
        feedForward.forward(layer, act, taps, mode);
        taps.layerOutput(layer, act.tokens(), config.hiddenSize(), act.hidden);
    }

    /** Logits [rows, vocab] of rows [firstRow, firstRow + rows) after the final norm. */
    public float[] logits(Activations act, int firstRow, int rows) {
        int hidden = config.hiddenSize(), vocab = config.vocabSize();
        float[] x = new float[rows * hidden];
        System.arraycopy(act.hidden, firstRow * hidden, x, 0, rows * hidden);
        ops.rmsNorm(x, x, rows, hidden, weights.tensor(config.family().tensors().finalNorm(), hidden), config.rmsNormEps());
        String head = config.tieWordEmbeddings() && !weights.contains(config.family().tensors().lmHead())
                ? config.family().tensors().embed() : config.family().tensors().lmHead();
        float[] out = new float[rows * vocab];
        ops.matmulTransposed(x, rows, hidden, weights.tensor(head, vocab, hidden), vocab, null, out);
        return out;
    }

    /** All layers; logits for every token when {@code withLogits}. */
    public ForwardResult forward(List<int[]> sequences, ForwardTaps taps, CalibrationMode mode, boolean withLogits) {
        Activations act = embed(sequences);
        for (int l = 0; l < config.layerCount(); l++) layer(l, act, taps, mode);
        return new ForwardResult(act, withLogits ? logits(act, 0, act.tokens()) : null);
    }

    /**
     * Incremental decoding for one sequence: appends {@code tokens} after the cached positions and returns the
     * logits [tokens.length, vocab] of the new positions. A fresh cache gives a prefill.
     */
    public float[] decode(KvCache cache, int[] tokens, ForwardTaps taps) {
        Activations act = embed(List.of(tokens), new int[]{cache.length()}, new KvCache[]{cache});
        for (int l = 0; l < config.layerCount(); l++) layer(l, act, taps, CalibrationMode.ROUTED);
        return logits(act, 0, act.tokens());
    }

    public KvCache newCache() { return new KvCache(config.layerCount(), config.headCountKv(), config.headDim()); }

    /** The result of a full pass: the final residual stream and, if asked, logits [tokens, vocab]. */
    public record ForwardResult(Activations activations, float[] logits) {}

    @Override
    public void close() throws Exception { weights.source().close(); }
}
