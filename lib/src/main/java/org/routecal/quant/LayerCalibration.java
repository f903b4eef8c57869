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

/**
 * The forward taps that collect what quantizing one decoder layer needs, kept on the backend:
 * <ul>
 *   <li>Hessians XᵀX of every module that sees all tokens (attention, dense MLP, shared expert), one per input,
 *       accumulated batch by batch;</li>
 *   <li>for an MoE layer, the block input of every calibration token ([tokens, hidden], the experts' gate/up input)
 *       and the routing (ids and weights, downloaded: [tokens, k] is small).</li>
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

    /** @param batchTokens tokens of each forward batch, in order */
    LayerCalibration(int layer, Backend backend, Set<String> hessianKeys, List<Integer> batchTokens) {
        this.layer = layer;
        this.backend = backend;
        this.hessianKeys = hessianKeys;
        this.batchStart = new int[batchTokens.size() + 1];
        for (int i = 0; i < batchTokens.size(); i++) batchStart[i + 1] = batchStart[i] + batchTokens.get(i);
    }

    int tokens() { return batchStart[batchStart.length - 1]; }

    @Override
    public void linearInput(int layer, Activations batch, String[] modules, Tensor x) {
        if (layer != this.layer || !hessianKeys.contains(modules[0])) return;
        Tensor h = hessians.computeIfAbsent(modules[0], k -> backend.allocate(backend.hessianType(), x.cols(), x.cols(), "H " + k));
        backend.gram(x, null, null, new int[]{0, x.rowCount()}, h, 1f);
        hessianRows.merge(modules[0], (long) x.rowCount(), Long::sum);
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
