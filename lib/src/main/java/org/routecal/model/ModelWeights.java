package org.routecal.model;

import org.routecal.RoutecalException;
import org.routecal.model.family.MoeFamily;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Weights by HF name, decoded to float32 on first use from the (memory-mapped) source and kept in a byte-bounded LRU
 * cache, so a model larger than RAM runs layer by layer. Overrides (e.g. dequantized quantized weights) take
 * precedence over the source. Shapes are checked against the config and values for NaN/Inf on first read; errors
 * name the tensor and the file.
 */
public final class ModelWeights {
    /** A Linear module: w [out, in] row-major (HF layout), b [out] or null. */
    public record Linear(String module, float[] w, float[] b, int out, int in) {}

    private final TensorSource source;
    private final long budgetBytes;
    private final Map<String, float[]> overrides = new HashMap<>();
    private final LinkedHashMap<String, float[]> cache = new LinkedHashMap<>(64, 0.75f, true);
    private long cachedBytes;

    public ModelWeights(TensorSource source, long budgetBytes) {
        this.source = source;
        this.budgetBytes = budgetBytes;
    }

    public TensorSource source() { return source; }

    /** Replaces a tensor's values for every later forward call (shape must match the source's). */
    public synchronized void override(String name, float[] values) {
        if (source.contains(name)) {
            long n = Arrays.stream(source.shape(name)).reduce(1, Math::multiplyExact);
            if (n != values.length) throw new RoutecalException("override of " + name + ": " + values.length + " values, tensor has " + n);
        }
        overrides.put(name, values);
        float[] old = cache.remove(name);
        if (old != null) cachedBytes -= 4L * old.length;
    }

    public synchronized void clearOverrides() { overrides.clear(); }

    public boolean contains(String name) { return overrides.containsKey(name) || source.contains(name); }

    /** The tensor as float32, checking its shape equals {@code expected}. */
    public float[] tensor(String name, long... expected) {
        float[] o;
        synchronized (this) {
            o = overrides.get(name);
            if (o == null) o = cache.get(name);
        }
        if (o != null) return o;
        if (!source.contains(name)) {
            throw new RoutecalException(source.describe() + ": tensor " + name + " is missing");
        }
        long[] shape = source.shape(name);
        if (!Arrays.equals(shape, expected)) {
            throw new RoutecalException(source.describe() + ": tensor " + name + " has shape " + Arrays.toString(shape)
                    + " but the config implies " + Arrays.toString(expected));
        }
        float[] values = source.readFloat(name);
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new RoutecalException(source.describe() + ": tensor " + name + " contains " + values[i]
                        + " at flat index " + i + " (corrupt or overflowed weights)");
            }
        }
        synchronized (this) {
            cache.put(name, values);
            cachedBytes += 4L * values.length;
            var it = cache.entrySet().iterator();
            while (cachedBytes > budgetBytes && it.hasNext()) {
                var e = it.next();
                if (e.getValue() == values) continue;
                cachedBytes -= 4L * e.getValue().length;
                it.remove();
            }
        }
        return values;
    }

    /** A Linear module by its template, e.g. {@code model.layers.{layer}.self_attn.q_proj}. */
    public Linear linear(String template, int layer, int expert, int out, int in, boolean bias) {
        String module = MoeFamily.name(template, layer, expert);
        float[] w = tensor(module + ".weight", out, in);
        float[] b = bias ? tensor(module + ".bias", out) : null;
        return new Linear(module, w, b, out, in);
    }

    public long cachedBytes() { return cachedBytes; }
}
