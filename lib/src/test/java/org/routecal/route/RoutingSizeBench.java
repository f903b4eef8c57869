package org.routecal.route;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;

/**
 * Size of routing.parquet per million tokens at Qwen3-30B-A3B geometry (48 MoE layers × 128 experts, top-8), on
 * seeded random routing with skewed popularity. Not a unit test; run with
 * {@code java -cp … org.routecal.route.RoutingSizeBench [tokens]}.
 */
public final class RoutingSizeBench {
    public static void main(String[] args) throws Exception {
        int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        RoutingGeometry q = new RoutingGeometry(IntStream.range(0, 48).toArray(), 128, 8);
        Path dir = Files.createTempDirectory("routing-size");
        Path f = dir.resolve("routing.parquet");
        long t0 = System.nanoTime();
        try (RoutingParquet.Writer w = new RoutingParquet.Writer(f, q, "bench")) {
            for (int done = 0, b = 0; done < tokens; done += 5000, b++) w.write(RandomRouting.batch(q, Math.min(5000, tokens - done), 25, b));
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long bytes = Files.size(f);
        System.out.printf("tokens=%d bytes=%d bytes/token=%.1f MB per 1M tokens=%.1f (200k tokens: %.1f MB) write+gen %.1fs%n",
                tokens, bytes, (double) bytes / tokens, bytes * 1e6 / tokens / 1e6, bytes * 2e5 / tokens / 1e6, secs);
        Files.delete(f);
        Files.delete(dir);
    }
}
