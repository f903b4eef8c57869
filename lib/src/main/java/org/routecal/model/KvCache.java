package org.routecal.model;

import java.util.Arrays;

/**
 * Keys and values of earlier positions of one sequence, per layer, for incremental decoding (serve). Keys are stored
 * after RoPE. Layout per layer: [positions, kvHeads × headDim].
 */
public final class KvCache {
    private final int width;
    private final float[][] keys, values;
    private final int[] length;

    public KvCache(int layers, int kvHeads, int headDim) {
        this.width = kvHeads * headDim;
        this.keys = new float[layers][];
        this.values = new float[layers][];
        this.length = new int[layers];
        for (int l = 0; l < layers; l++) { keys[l] = new float[16 * width]; values[l] = new float[16 * width]; }
    }

    /** Positions cached so far (the same for every layer between forward calls). */
    public int length() { return length[0]; }

    int length(int layer) { return length[layer]; }

    float[] keys(int layer) { return keys[layer]; }

    float[] values(int layer) { return values[layer]; }

    /** Appends rows [rows, width] of new keys and values for {@code layer}. */
    void append(int layer, float[] k, int kOff, float[] v, int vOff, int rows) {
        int need = (length[layer] + rows) * width;
        if (need > keys[layer].length) {
            int cap = Math.max(need, keys[layer].length * 2);
            keys[layer] = Arrays.copyOf(keys[layer], cap);
            values[layer] = Arrays.copyOf(values[layer], cap);
        }
        for (int r = 0; r < rows; r++) {
            System.arraycopy(k, kOff + r * width, keys[layer], (length[layer] + r) * width, width);
            System.arraycopy(v, vOff + r * width, values[layer], (length[layer] + r) * width, width);
        }
        length[layer] += rows;
    }

    /** Drops positions from {@code newLength} on (e.g. to reuse a shared prompt prefix). */
    public void truncate(int newLength) {
        for (int l = 0; l < length.length; l++) length[l] = Math.min(length[l], newLength);
    }
}
