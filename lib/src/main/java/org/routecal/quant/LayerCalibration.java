package org.routecal.quant;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.Activations;
import org.routecal.model.ForwardTaps;
import org.routecal.quant.awq.ActivationMean;

/**
 * The forward taps that collect what quantizing one decoder layer needs, kept on the backend:
 * <ul>
 *   <li>Hessians XᵀX of every module that sees all tokens (attention, dense MLP, shared expert), one per input,
 *       accumulated batch by batch;</li>
 *   <li>for an MoE layer, the block input of every calibration token ([tokens, hidden], the experts' gate/up input)
 *       and the routing (ids and weights, downloaded: [tokens, k] is small);</li>
 *   <li>for AWQ ({@link #withActivationStatistics}), per input: the mean |x| per channel over every token, and the
 *       first rows as a bounded sample (on the host: each batch's input is downloaded once; a [channels] sum and at
 *       most {@code sampleRows} rows are kept).</li>
 * </ul>
 * Expert Hessians are NOT accumulated here: {@link LayerQuantizer} builds each expert's from the stored block input
 * and routing when it solves that expert, so only one expert's Hessians exist at a time (issue: memory bounded by one
 * layer's activations + one expert's Hessians + one layer's weights).
 */
final class LayerCalibration implements ForwardTaps, AutoCloseable {
    private final int layer;
    private final Backend backend;
    private final Set<String> hessianKeys;         // modules whose Hessian is wanted (first module of each input)
    private final int[] batchStart;                 // [batches + 1] first calibration row of each batch
    final Map<String, Tensor> hessians = new HashMap<>();
    final Map<String, Long> hessianRows = new HashMap<>();
    Tensor blockInput;                              // [tokens, hidden] F32, MoE layers only
    int[] ids;                                      // [tokens, k]
    float[] weights;                                // [tokens, k]
    int topK;
    private Set<String> meanKeys = Set.of();        // modules whose input mean |x| is wanted (AWQ's x̄)
    private Set<String> sampleKeys = Set.of();      // modules whose first input rows are kept
    private int sampleRows;
    final Map<String, ActivationMean> means = new HashMap<>();
    final Map<String, float[]> samples = new HashMap<>();  // [≤ sampleRows, in] row-major

    /** @param batchTokens tokens of each forward batch, in order */
    LayerCalibration(int layer, Backend backend, Set<String> hessianKeys, List<Integer> batchTokens) {
        this.layer = layer;
        this.backend = backend;
        this.hessianKeys = hessianKeys;
        this.batchStart = new int[batchTokens.size() + 1];
        for (int i = 0; i < batchTokens.size(); i++) batchStart[i + 1] = batchStart[i] + batchTokens.get(i);
    }

    int tokens() { return batchStart[batchStart.length - 1]; }

    /**
     * Also collects, for the inputs of {@code meanKeys}, the mean |x| per channel and, for those of {@code sampleKeys},
     * the first {@code sampleRows} rows (modules named as {@link ForwardTaps#linearInput} names the first reader).
     */
    LayerCalibration withActivationStatistics(Set<String> meanKeys, Set<String> sampleKeys, int sampleRows) {
        this.meanKeys = Set.copyOf(meanKeys);
        this.sampleKeys = Set.copyOf(sampleKeys);
        this.sampleRows = sampleRows;
        return this;
    }

    @Override
    public void linearInput(int layer, Activations batch, String[] modules, Tensor x) {
        if (layer != this.layer) return;
        String key = modules[0];
        if (hessianKeys.contains(key)) {
            Tensor h = hessians.computeIfAbsent(key, k -> backend.allocate(backend.hessianType(), x.cols(), x.cols(), "H " + k));
            backend.gram(x, null, null, new int[]{0, x.rowCount()}, h, 1f);
            hessianRows.merge(key, (long) x.rowCount(), Long::sum);
        }
        boolean mean = meanKeys.contains(key), sample = sampleKeys.contains(key);
        if (!mean && !sample) return;
        float[] host = backend.download(x); // [rows, in]
        int rows = x.rowCount(), cols = x.cols();
        if (mean) means.computeIfAbsent(key, k -> new ActivationMean(cols)).add(host, rows, null);
        if (sample) {
            float[] have = samples.get(key);
            int kept = have == null ? 0 : have.length / cols, take = Math.min(rows, sampleRows - kept);
            if (take > 0) {
                float[] grown = have == null ? new float[take * cols] : java.util.Arrays.copyOf(have, (kept + take) * cols);
                System.arraycopy(host, 0, grown, kept * cols, take * cols);
                samples.put(key, grown);
            }
        }
    }

    @Override
    public void routing(int layer, Activations batch, Tensor x, Tensor idsT, Tensor weightsT, Tensor logits) {
        if (layer != this.layer) return;
        int total = tokens(), k = idsT.cols(), row = batchStart[batch.batchIndex];
        if (blockInput == null) {
            blockInput = backend.allocate(TensorType.F32, total, x.cols(), "layer " + layer + " block input");
            ids = new int[total * k];
            weights = new float[total * k];
            topK = k;
        }
        backend.copyRows(x, 0, blockInput, row, x.rows());
        System.arraycopy(backend.downloadInts(idsT), 0, ids, row * k, x.rowCount() * k);
        System.arraycopy(backend.download(weightsT), 0, weights, row * k, x.rowCount() * k);
    }

    @Override
    public void close() {
        hessians.values().forEach(Tensor::close);
        hessians.clear();
        if (blockInput != null) blockInput.close();
        blockInput = null;
    }
}
