package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.routecal.RoutecalException;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.family.MoeFamily;

/**
 * A loaded MoE checkpoint and its forward pass, written once against a {@link Backend} (CPU or GPU). Weights stay in
 * the memory-mapped source and are loaded per layer into the backend's weight cache ({@link ModelWeights}); a model
 * larger than the cache streams layer by layer.
 *
 * <p>The pass is layer-granular ({@link #embed}, {@link #layer}, {@link #logits}) so stage 0 can calibrate layer L on
 * the outputs of already-quantized layers, and layer-major over many batches ({@link #forward(List, ForwardTaps)}) so
 * each layer's weights are loaded once per pass however many batches there are.
 */
public final class MoeModel implements AutoCloseable {
    private final Path dir;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Backend backend;
    private final AttentionBlock attention;
    private final FeedForwardBlock feedForward;
    private boolean checkFinite = true;
    private Backend ownedBackend; // closed with the model (load(Path) only)

    public MoeModel(Path dir, ModelConfig config, TensorSource source, Backend backend, long cacheBudgetBytes) {
        var missing = org.routecal.model.family.Feature.missing(config, org.routecal.model.family.Feature.CURRENT_FORWARD);
        if (!missing.isEmpty()) {
            throw new RoutecalException(dir + ": model_type \"" + config.modelType() + "\" (" + config.family().name()
                    + ") is described but cannot run yet: the forward pass lacks " + org.routecal.model.family.Feature.describe(missing));
        }
        CheckpointLayout.verify(config, source);
        this.dir = dir;
        this.config = config;
        this.backend = backend;
        this.weights = new ModelWeights(source, config, backend, linearType(backend, source, config), cacheBudgetBytes);
        this.attention = new AttentionBlock(config, weights);
        this.feedForward = new FeedForwardBlock(config, weights);
    }

    /**
     * Loads {@code dir} on a CPU reference backend (fp32) of its own, closed with the model: for tests and tools that
     * run one model; stages get their models from a {@code session.Session} instead.
     */
    public static MoeModel load(Path dir) {
        Backend cpu = org.routecal.compute.devices.Devices.cpu();
        MoeModel m = load(dir, cpu);
        m.ownedBackend = cpu;
        return m;
    }

    /** Loads config.json and the safetensors checkpoint in {@code dir} onto {@code backend}. */
    public static MoeModel load(Path dir, Backend backend) {
        ModelConfig config = ModelConfig.load(dir);
        return new MoeModel(dir, config, CheckpointSource.open(dir), backend, defaultBudget(backend));
    }

    /** Weight cache: most of what the backend can hold, leaving room for activations. */
    public static long defaultBudget(Backend backend) {
        long free = backend.memoryAvailable();
        return Math.max(256L << 20, backend.device().kind().equals("cpu") ? free / 3 : free - Math.max(4L << 30, free / 8));
    }

    /**
     * BF16 weights for a bf16 pass (a checkpoint's bf16 values as they are; fp32 checkpoints rounded, as HF's
     * {@code dtype=bfloat16} load does), F32 for an fp32 pass.
     */
    private static TensorType linearType(Backend backend, TensorSource source, ModelConfig config) {
        return backend.precision() == org.routecal.compute.Precision.BF16 ? TensorType.BF16 : TensorType.F32;
    }

    public Path dir() { return dir; }

    public ModelConfig config() { return config; }

    public MoeFamily family() { return config.family(); }

    public ModelWeights weights() { return weights; }

    public Backend backend() { return backend; }

    /** Turns off the per-layer NaN/Inf check (benchmarks only). */
    public void checkFinite(boolean on) { this.checkFinite = on; }

    /** Replaces a tensor (e.g. with dequantized quantized values) for every later forward call. */
    public void overrideWeight(String tensorName, float[] values) { weights.override(tensorName, values); }

    // ---- forward ---------------------------------------------------------------------------------------------------

    /** Token embeddings of a batch of sequences (different lengths allowed), positions from 0. */
    public Activations embed(List<int[]> sequences) { return embed(sequences, 0); }

    /** As {@link #embed(List)}, tagging the batch with its index in a layer-major pass. */
    public Activations embed(List<int[]> sequences, int batchIndex) {
        return embed(sequences, new int[sequences.size()], null, batchIndex);
    }

    private Activations embed(List<int[]> sequences, int[] startPositions, KvCache[] caches, int batchIndex) {
        int hidden = config.hiddenSize(), vocab = config.vocabSize();
        int[] lengths = sequences.stream().mapToInt(s -> s.length).toArray();
        for (int len : lengths) if (len == 0) throw new RoutecalException("empty token sequence in a forward batch");
        int total = 0;
        for (int len : lengths) total = Math.addExact(total, len);
        int[] ids = new int[total];
        int row = 0;
        for (int[] seq : sequences) {
            for (int id : seq) {
                if (id < 0 || id >= vocab) throw new RoutecalException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
                ids[row++] = id;
            }
        }
        Activations act = new Activations(backend, batchIndex, hidden, lengths, startPositions, caches);
        try (Tensor idt = backend.uploadInts(ids, 1, total, "token ids")) {
            backend.gatherRows(weights.matrix(config.family().tensors().embed(), vocab, hidden), idt, act.hidden);
        }
        return act;
    }

    /** A new batch with the same sequences and positions as {@code a} (residual stream zeroed), e.g. a scratch copy. */
    public Activations like(Activations a) {
        int[] starts = new int[a.sequences()];
        for (int s = 0; s < starts.length; s++) starts[s] = a.position[a.sequenceStart[s]];
        return new Activations(backend, a.batchIndex, config.hiddenSize(), a.sequenceLength, starts, a.caches);
    }

    /** Runs decoder layer {@code layer} in place. */
    public void layer(int layer, Activations act, ForwardTaps taps) {
        attention.forward(layer, act, taps);
        feedForward.forward(layer, act, taps);
        if (checkFinite) requireFinite(layer, act);
        taps.layerOutput(layer, act, act.hidden);
    }

    /** Runs only the attention half of decoder layer {@code layer} in place: h += o_proj(attention(input_layernorm(h))). */
    public void attention(int layer, Activations act) {
        attention.forward(layer, act, ForwardTaps.NONE);
    }

    /** Stops the pass on the first NaN/Inf in the residual stream, naming the layer and the sequence. */
    private void requireFinite(int layer, Activations act) {
        if (backend.countNonFinite(act.hidden) == 0) return;
        float[] h = backend.download(act.hidden);
        int hidden = config.hiddenSize(), bad = 0;
        while (Float.isFinite(h[bad])) bad++;
        int row = bad / hidden, seq = act.sequenceOf(row);
        throw new RoutecalException("non-finite activation (" + h[bad] + ") after layer " + layer + " in sequence " + seq
                + " of batch " + act.batchIndex + " at position " + act.position[row]
                + " (overflow in the checkpoint's weights, or a config value such as rms_norm_eps that makes NaN)");
    }

    /**
     * All layers over several batches, layer-major: layer L runs on every batch before layer L + 1 starts, so each
     * layer's weights are loaded once per pass. The batches stay alive (and resident) for the whole pass.
     */
    public void forward(List<Activations> batches, ForwardTaps taps) {
        for (int l = 0; l < config.layerCount(); l++) {
            weights.beginLayer();
            for (Activations act : batches) layer(l, act, taps);
        }
    }

    /** All layers for one batch. */
    public Activations forwardBatch(List<int[]> sequences, ForwardTaps taps) {
        Activations act = embed(sequences);
        forward(List.of(act), taps);
        return act;
    }

    /** The final norm of rows [firstRow, firstRow + rows) → logits [rows, vocab] on the backend (the caller closes it). */
    public Tensor logits(Activations act, int firstRow, int rows) {
        int hidden = config.hiddenSize(), vocab = config.vocabSize();
        try (Tensor x = backend.allocate(TensorType.F32, rows, hidden, "final norm")) {
            backend.rmsNorm(act.hidden.rows(firstRow, firstRow + rows), weights.vector(config.family().tensors().finalNorm(), hidden),
                    config.rmsNormEps(), x);
            Tensor out = backend.allocate(TensorType.F32, rows, vocab, "logits");
            backend.linear(x, weights.matrix(lmHead(), vocab, hidden), null, out, false);
            return out;
        }
    }

    /** Every position's logits [tokens, vocab] of one forward batch, on the host (tests and small inputs only). */
    public float[] forwardLogits(List<int[]> sequences, ForwardTaps taps) {
        try (Activations act = forwardBatch(sequences, taps)) {
            return logitsHost(act, 0, act.tokens());
        }
    }

    /** Logits of rows as host floats [rows, vocab]. */
    public float[] logitsHost(Activations act, int firstRow, int rows) {
        try (Tensor t = logits(act, firstRow, rows)) {
            return backend.download(t);
        }
    }

    private String lmHead() {
        MoeFamily.Tensors t = config.family().tensors();
        return config.tieWordEmbeddings() && !weights.contains(t.lmHead()) ? t.embed() : t.lmHead();
    }

    /**
     * Incremental decoding for one sequence: appends {@code tokens} after the cached positions and returns the logits
     * of the LAST new position only [vocab] (a prompt of any length costs one vocab row, not [tokens, vocab]).
     */
    public float[] decodeLast(KvCache cache, int[] tokens, ForwardTaps taps) {
        try (Activations act = embed(List.of(tokens), new int[]{cache.length()}, new KvCache[]{cache}, 0)) {
            for (int l = 0; l < config.layerCount(); l++) layer(l, act, taps);
            return logitsHost(act, act.tokens() - 1, 1);
        }
    }

    /** Logits of every new position [tokens.length, vocab] (parity tests; prefer {@link #decodeLast}). */
    public float[] decode(KvCache cache, int[] tokens, ForwardTaps taps) {
        try (Activations act = embed(List.of(tokens), new int[]{cache.length()}, new KvCache[]{cache}, 0)) {
            for (int l = 0; l < config.layerCount(); l++) layer(l, act, taps);
            return logitsHost(act, 0, act.tokens());
        }
    }

    public KvCache newCache() {
        int kvHeads = config.attentionKvHeads();
        return new KvCache(backend, config.layerCount(), kvHeads * config.headDim(), kvHeads * config.valueHeadDim());
    }

    /** Batches of whole sequences, each at most {@code maxTokens} tokens (a longer sequence gets a batch of its own). */
    public static List<List<int[]>> batches(List<int[]> sequences, int maxTokens) {
        List<List<int[]>> out = new ArrayList<>();
        List<int[]> cur = new ArrayList<>();
        int n = 0;
        for (int[] s : sequences) {
            if (!cur.isEmpty() && n + s.length > maxTokens) {
                out.add(cur);
                cur = new ArrayList<>();
                n = 0;
            }
            cur.add(s);
            n += s.length;
        }
        if (!cur.isEmpty()) out.add(cur);
        return out;
    }

    @Override
    public void close() {
        weights.close();
        if (ownedBackend != null) ownedBackend.close();
    }
}
