package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import org.routecal.compute.Backend;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded random-init models in memory, with every tensor the family table requires (for benchmarks at real layer
 * geometries without writing checkpoints). Values ~ N(0, 0.02²); norms 1.
 */
public final class RandomModels {
    private RandomModels() {}

    public static MoeModel create(ModelConfig config, long seed, Backend backend) {
        MapTensorSource src = new MapTensorSource("random " + config.family().name() + " (seed " + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        for (Map.Entry<String, long[]> e : CheckpointLayout.expected(config).entrySet()) {
            long n = 1;
            for (long d : e.getValue()) n *= d;
            float[] v = new float[Math.toIntExact(n)];
            boolean norm = e.getKey().contains("norm");
            for (int i = 0; i < v.length; i++) v[i] = norm ? 1f : (float) (rnd.nextDouble(-1, 1) * 0.035);
            src.put(e.getKey(), e.getValue(), v);
        }
        return new MoeModel(Path.of("random"), config, src, backend, Long.MAX_VALUE);
    }
}
