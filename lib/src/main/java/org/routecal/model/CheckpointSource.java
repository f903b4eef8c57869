package org.routecal.model;

import org.routecal.io.safetensors.SafetensorsCheckpoint;

import java.nio.file.Path;
import java.util.Set;

/** A {@link TensorSource} over a memory-mapped safetensors checkpoint (single file or sharded with an index). */
public final class CheckpointSource implements TensorSource {
    private final SafetensorsCheckpoint checkpoint;
    private final Path dir;

    private CheckpointSource(Path dir, SafetensorsCheckpoint checkpoint) {
        this.dir = dir;
        this.checkpoint = checkpoint;
    }

    public static CheckpointSource open(Path dir) {
        return new CheckpointSource(dir, SafetensorsCheckpoint.open(dir));
    }

    public SafetensorsCheckpoint checkpoint() { return checkpoint; }

    @Override public Set<String> names() { return checkpoint.names(); }

    @Override public boolean contains(String name) { return checkpoint.contains(name); }

    @Override public long[] shape(String name) { return checkpoint.info(name).shape(); }

    @Override public String dtype(String name) { return checkpoint.info(name).dtype().name(); }

    @Override public float[] readFloat(String name) { return checkpoint.readFloat(name); }

    @Override public String describe() { return dir.toString(); }

    @Override public void close() { checkpoint.close(); }
}
