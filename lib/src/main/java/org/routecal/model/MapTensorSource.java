package org.routecal.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Tensors held in memory (benchmarks, tests, synthetic models): name → shape + float32 values. */
public final class MapTensorSource implements TensorSource {
    private record Entry(long[] shape, float[] values) {}

    private final Map<String, Entry> tensors = new LinkedHashMap<>();
    private final String description;

    public MapTensorSource(String description) { this.description = description; }

    public MapTensorSource put(String name, long[] shape, float[] values) {
        tensors.put(name, new Entry(shape.clone(), values));
        return this;
    }

    @Override public Set<String> names() { return tensors.keySet(); }
    @Override public boolean contains(String name) { return tensors.containsKey(name); }
    @Override public long[] shape(String name) { return tensors.get(name).shape().clone(); }
    @Override public String dtype(String name) { return "F32"; }
    @Override public float[] readFloat(String name) { return tensors.get(name).values(); }
    @Override public String describe() { return description; }

    /** The F32 values as little-endian bytes (what a plain F32 safetensors entry holds). */
    @Override public byte[] readStored(String storedName) {
        float[] v = tensors.get(storedName).values();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }
}
