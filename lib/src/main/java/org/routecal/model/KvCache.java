package org.routecal.model;

import org.routecal.compute.Backend;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;

/**
 * Keys and values of earlier positions of one sequence, per layer, on the model's backend, for incremental decoding
 * (serve). Keys are stored after RoPE. Layout per layer: keys [capacity, kvHeads × headDim], values [capacity,
 * kvHeads × valueHeadDim]; rows [0, length) are valid. MLA caches its keys and values expanded per head (what the
 * attention op reads), not its compressed latent: simplest, at kv_b's expansion in memory.
 */
public final class KvCache implements AutoCloseable {
    private final Backend backend;
    private final int keyWidth, valueWidth;
    private final Tensor[] keys, values;
    private final int[] length;

    /** @param keyWidth kvHeads × headDim; @param valueWidth kvHeads × valueHeadDim */
    public KvCache(Backend backend, int layers, int keyWidth, int valueWidth) {
        this.backend = backend;
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        this.keys = new Tensor[layers];
        this.values = new Tensor[layers];
        this.length = new int[layers];
    }

    /** Positions cached so far (the same for every layer between forward calls). */
    public int length() { return length[0]; }

    int length(int layer) { return length[layer]; }

    /** Valid keys of a layer: [length, width]. */
    Tensor keys(int layer) { return keys[layer].rows(0, length[layer]); }

    Tensor values(int layer) { return values[layer].rows(0, length[layer]); }

    /** Appends rows [from, from + rows) of k [*, keyWidth] and v [*, valueWidth] for {@code layer}, growing the storage as needed. */
    void append(int layer, Tensor k, Tensor v, int from, int rows) {
        int need = length[layer] + rows;
        if (keys[layer] == null || need > keys[layer].rows()) {
            int cap = Math.max(need, keys[layer] == null ? 16 : 2 * keys[layer].rowCount());
            keys[layer] = grow(keys[layer], cap, keyWidth, layer, "keys");
            values[layer] = grow(values[layer], cap, valueWidth, layer, "values");
        }
        backend.copyRows(k, from, keys[layer], length[layer], rows);
        backend.copyRows(v, from, values[layer], length[layer], rows);
        length[layer] += rows;
    }

    private Tensor grow(Tensor old, int capacity, int width, int layer, String what) {
        Tensor t = backend.allocate(TensorType.F32, capacity, width, "kv cache layer " + layer + " " + what);
        if (old != null) {
            backend.copyRows(old, 0, t, 0, Math.min(old.rows(), length[layer]));
            old.close();
        }
        return t;
    }

    /** Drops positions from {@code newLength} on (e.g. to reuse a shared prompt prefix). */
    public void truncate(int newLength) {
        for (int l = 0; l < length.length; l++) length[l] = Math.min(length[l], newLength);
    }

    @Override
    public void close() {
        for (Tensor t : keys) if (t != null) t.close();
        for (Tensor t : values) if (t != null) t.close();
    }
}
