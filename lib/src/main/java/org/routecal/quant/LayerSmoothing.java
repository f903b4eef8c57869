package org.routecal.quant;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.routecal.model.MoeModel;
import org.routecal.model.TensorSource;
import org.routecal.quant.awq.AwqFold;

/**
 * The AWQ scales chosen for one decoder layer and every tensor folding them changes: balance modules' input columns
 * multiplied by s, a Linear smooth layer's output rows (and bias) divided by s, a norm's γ divided by s. Folding is
 * exact for the unquantized model, so the layer computes the same function; quantizing the smoothed weights is what
 * AWQ gains. Values are always computed from the source checkpoint's (original) tensors, so applying this twice or
 * after other overrides cannot compound.
 */
final class LayerSmoothing {
    private final Map<String, double[]> columns = new LinkedHashMap<>(); // module → s [in]
    private final Map<String, double[]> rows = new LinkedHashMap<>();    // module → s [≤ out]: its last rows divided
    private final Map<String, double[]> norms = new LinkedHashMap<>();   // norm weight tensor → s [hidden]

    /** Multiplies {@code module}'s input columns by {@code s} (a balance layer). */
    void scaleColumns(String module, double[] s) {
        combine(columns, module, s);
    }

    /** Divides {@code module}'s last {@code s.length} output rows (and bias entries) by {@code s} (a Linear smooth layer). */
    void divideRows(String module, double[] s) {
        combine(rows, module, s);
    }

    /** Divides the norm weight {@code tensor} (γ) by {@code s}. */
    void divideNorm(String tensor, double[] s) {
        combine(norms, tensor, s);
    }

    /** Two mappings touching the same side of one tensor multiply (never happens with the families' mappings). */
    private static void combine(Map<String, double[]> into, String key, double[] s) {
        into.merge(key, s.clone(), (a, b) -> {
            if (a.length != b.length) throw new IllegalStateException(key + ": AWQ scales of " + a.length + " and " + b.length + " entries");
            double[] c = new double[a.length];
            for (int i = 0; i < c.length; i++) c[i] = a[i] * b[i];
            return c;
        });
    }

    boolean isEmpty() {
        return columns.isEmpty() && rows.isEmpty() && norms.isEmpty();
    }

    /** True when {@code module}'s weight changes. */
    boolean touches(String module) {
        return columns.containsKey(module) || rows.containsKey(module);
    }

    /** {@code module}'s smoothed weight from its original one ([rows, cols] row-major; a new array, or w itself when untouched). */
    float[] weight(String module, float[] w, int outRows, int cols) {
        float[] out = w;
        double[] c = columns.get(module), r = rows.get(module);
        if (c != null) out = AwqFold.scaleColumns(out, outRows, cols, c);
        if (r != null) out = AwqFold.divideRows(out, outRows, cols, r);
        return out;
    }

    /**
     * Every tensor the fold changes, in a deterministic order: module weights, the biases of Linear smooth layers
     * (where {@code source} has them), norm weights.
     */
    Set<String> tensorNames(TensorSource source) {
        Set<String> out = new LinkedHashSet<>();
        Set<String> modules = new LinkedHashSet<>(columns.keySet());
        modules.addAll(rows.keySet());
        for (String m : modules) {
            out.add(m + ".weight");
            if (rows.containsKey(m) && source.contains(m + ".bias")) out.add(m + ".bias");
        }
        out.addAll(norms.keySet());
        return out;
    }

    /** The folded values of one of {@link #tensorNames}, computed from {@code source}'s (original) values. */
    float[] tensor(String name, TensorSource source) {
        if (norms.containsKey(name)) return AwqFold.divideNorm(source.readFloat(name), norms.get(name));
        if (name.endsWith(".bias")) {
            String m = name.substring(0, name.length() - ".bias".length());
            return AwqFold.divideBias(source.readFloat(name), rows.get(m));
        }
        String m = name.substring(0, name.length() - ".weight".length());
        long[] shape = source.shape(name);
        return weight(m, source.readFloat(name), (int) shape[0], (int) shape[1]);
    }

    /** Overrides every changed tensor in {@code model} (backend tensors that hold one are patched in place). */
    void foldInto(MoeModel model) {
        TensorSource source = model.weights().source();
        for (String name : tensorNames(source)) model.overrideWeight(name, tensor(name, source));
    }
}
