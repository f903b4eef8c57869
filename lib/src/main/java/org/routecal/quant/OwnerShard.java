package org.routecal.quant;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;

/**
 * What one owner device solves of a layer when {@code --devices} spreads quantize ({@link DataParallelLayers}): its
 * dense module groups and experts, and the Hessians reduced for them on the host from every device's partials
 * ({@link PartialHessians}). {@link LayerQuantizer} asks it for the routed and all-token parts instead of building them
 * from a block input this device holds only its share of, and combines them exactly as on one device. Used on the
 * owner's device thread; the reduced arrays are handed over (each is read once).
 */
final class OwnerShard implements AutoCloseable {
    private final Backend backend;
    private final Set<String> dense;
    private final Set<Integer> experts;
    private final Map<PartialHessians.Key, double[]> reduced;
    private final double[] blockInput;     // [H, H] all-token block-input Hessian, or null when nothing uses it
    private final int hidden;
    private Tensor blockInputTensor;

    OwnerShard(Backend backend, Set<String> dense, Set<Integer> experts, Map<PartialHessians.Key, double[]> reduced, double[] blockInput,
               int hidden) {
        this.backend = backend;
        this.dense = dense;
        this.experts = experts;
        this.reduced = reduced;
        this.blockInput = blockInput;
        this.hidden = hidden;
    }

    boolean solvesDense(String key) { return dense.contains(key); }

    boolean solvesExpert(int expert) { return experts.contains(expert); }

    /** The expert's routed gate/up Hessian [H, H]. */
    double[] routedIn(int expert) { return part(expert, PartialHessians.Part.ROUTED_IN); }

    /** The expert's routed down Hessian [I, I] (inputs through its original gate/up). */
    double[] routedDown(int expert) { return part(expert, PartialHessians.Part.ROUTED_DOWN); }

    /** The expert's down Hessian over every calibration token [I, I]. */
    double[] allDown(int expert) { return part(expert, PartialHessians.Part.ALL_DOWN); }

    private double[] part(int expert, PartialHessians.Part part) {
        double[] h = reduced.get(new PartialHessians.Key(expert, part));
        if (h == null) throw new IllegalStateException("no reduced " + part + " Hessian for expert " + expert + " (no device delivered it)");
        return h;
    }

    /** The all-token block-input Hessian on this device (uploaded on first use, as {@link Backend#hessianType()}). */
    Tensor blockInputHessian() {
        if (blockInputTensor == null && blockInput != null) blockInputTensor = backend.uploadHessian(blockInput, hidden, hidden, "H block input (reduced)");
        return blockInputTensor;
    }

    /** The device solve path: each routed expert's reduced parts into its slots of the chunk's [c·K, K] F32 batches. */
    void writeRouted(List<LayerQuantizer.ExpertPlan> chunk, Tensor hGu, Tensor hDn) {
        int inter = hDn.cols();
        for (int i = 0; i < chunk.size(); i++) {
            LayerQuantizer.ExpertPlan p = chunk.get(i);
            if (!p.useRouted()) continue;
            backend.write(hGu, (long) i * hidden, floats(routedIn(p.expert())));
            backend.write(hDn, (long) i * inter, floats(routedDown(p.expert())));
        }
    }

    /** The device solve path: slot += alpha · the expert's all-token down Hessian. */
    void addAllDown(int expert, float alpha, Tensor slot) {
        try (Tensor t = backend.upload(floats(allDown(expert)), slot.rows(), slot.cols(), TensorType.F32, "H down all (reduced)")) {
            backend.axpy(alpha, t, slot);
        }
    }

    private static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) d[i];
        return f;
    }

    @Override
    public void close() {
        if (blockInputTensor != null) blockInputTensor.close();
        blockInputTensor = null;
    }
}
