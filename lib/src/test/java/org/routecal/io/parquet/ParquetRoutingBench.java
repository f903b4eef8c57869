package org.routecal.io.parquet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.routecal.io.safetensors.DTypeCodec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Size and write speed of a routing table with Qwen3-30B-A3B geometry (48 MoE layers, 128 experts, top-8):
 * per token 384 INT16 expert ids + 384 weights, as FLOAT or as INT16 bf16 bits. Not part of the normal suite:
 * {@code mvn -o -q -pl lib test -Dtest=ParquetRoutingBench -Droutecal.bench=true [-Droutecal.bench.rows=200000]}.
 */
@EnabledIfSystemProperty(named = "routecal.bench", matches = "true")
class ParquetRoutingBench {
    static final int LAYERS = 48, EXPERTS = 128, TOP_K = 8;

    @Test
    void routingTableSize() throws IOException {
        int rows = Integer.getInteger("routecal.bench.rows", 200_000);
        for (boolean bf16Bits : new boolean[] {false, true}) run(rows, bf16Bits);
    }

    private void run(int rows, boolean bf16Bits) throws IOException {
        ParquetSchema.Builder b = ParquetSchema.builder("routing").string("sample_id").int32("position").int32("token_id")
                .int16List("topk_ids");
        if (bf16Bits) b.int16List("topk_weights_bf16"); else b.floatList("topk_weights");
        ParquetSchema schema = b.build();
        Path out = Path.of("target", "bench", bf16Bits ? "routing_bf16.parquet" : "routing_f32.parquet");
        Random r = new Random(1);
        // Skewed expert popularity per layer (routing is unbalanced), logits ~ N(0,1) + log popularity.
        double[][] bias = new double[LAYERS][EXPERTS];
        for (double[] l : bias) for (int e = 0; e < EXPERTS; e++) l[e] = r.nextGaussian() * 0.7;
        int[] ids = new int[LAYERS * TOP_K];
        float[] w = new float[LAYERS * TOP_K];
        int[] wBits = new int[LAYERS * TOP_K];
        double[] logits = new double[EXPERTS];
        long genNanos = 0;
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpu0 = mx.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        try (ParquetTableWriter tw = ParquetTableWriter.create(out, schema, "routecal.routing.bench", 1, Map.of())) {
            for (int t = 0; t < rows; t++) {
                long g0 = mx.getCurrentThreadCpuTime();
                for (int l = 0; l < LAYERS; l++) {
                    for (int e = 0; e < EXPERTS; e++) logits[e] = r.nextGaussian() + bias[l][e];
                    topK(logits, l, ids, w);
                }
                for (int i = 0; i < w.length; i++) wBits[i] = DTypeCodec.floatToBf16(w[i]);
                genNanos += mx.getCurrentThreadCpuTime() - g0;
                tw.append("s" + t / 2000, t % 2000, r.nextInt(151_000), ids, bf16Bits ? wBits : w);
            }
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        double cpu = (mx.getCurrentThreadCpuTime() - cpu0 - genNanos) / 1e9; // this thread's CPU, excl. data generation
        long bytes = Files.size(out);
        System.out.printf("routing bench %s: %d rows, %.1f MB, %.1f bytes/token, write %.0f rows/s of writer CPU (%.1f s CPU, %.1f s wall incl. generation)%n",
                bf16Bits ? "weights=INT16(bf16 bits)" : "weights=FLOAT", rows, bytes / 1e6, bytes / (double) rows, rows / cpu, cpu, wall);
        assertEquals(rows, ParquetTableReader.open(out).rowCount());
        long r0 = System.nanoTime();
        int[][] back = ParquetTableReader.open(out).readIntListColumn("topk_ids");
        System.out.printf("  read topk_ids column: %.1f s%n", (System.nanoTime() - r0) / 1e9);
        assertEquals(rows, back.length);
    }

    /** Top-8 of one layer's logits, softmax-renormalised over the 8, sorted by weight (as HF topk returns). */
    private static void topK(double[] logits, int layer, int[] ids, float[] w) {
        int base = layer * TOP_K;
        boolean[] used = new boolean[logits.length];
        double sum = 0, max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < TOP_K; k++) {
            int best = -1;
            for (int e = 0; e < logits.length; e++) if (!used[e] && (best < 0 || logits[e] > logits[best])) best = e;
            used[best] = true;
            ids[base + k] = best;
            if (k == 0) max = logits[best];
            w[base + k] = (float) Math.exp(logits[best] - max);
            sum += w[base + k];
        }
        for (int k = 0; k < TOP_K; k++) w[base + k] = (float) (w[base + k] / sum);
    }
}
