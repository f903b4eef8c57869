package org.routecal.serve;

import org.junit.jupiter.api.Test;
import org.routecal.model.MoeModel;
import org.routecal.tokenize.ByteCodec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Generations running at once over one model ({@code serve --max-concurrent N}) give what each gives alone, and leave
 * the weight cache whole. Before the fix, two concurrent generations corrupted the access-ordered weight cache into a
 * cycle, and closing the model then spun forever (CI timed out on it).
 */
class ServedModelConcurrencyTest {
    static final int THREADS = 4, STEPS = 150;

    /** Greedy continuation of a prompt, one token at a time; returns every step's logits row. */
    static List<float[]> generate(ServedModel served, int seed) {
        ServedModel.Session s = served.newSession();
        int[] prompt = {65 + seed, 66 + seed, 67, 32 + seed};
        float[] logits = s.append(prompt);
        int vocab = served.vocabSize();
        List<float[]> rows = new ArrayList<>();
        float[] last = java.util.Arrays.copyOfRange(logits, logits.length - vocab, logits.length);
        for (int step = 0; step < STEPS; step++) {
            rows.add(last);
            int next = 0;
            for (int v = 1; v < vocab; v++) if (last[v] > last[next]) next = v;
            last = s.append(new int[]{next});
        }
        return rows;
    }

    @Test
    void concurrentGenerationsEqualSequentialOnesAndTheModelStillCloses() throws Exception {
        List<List<float[]>> alone = new ArrayList<>();
        try (MoeModel model = MoeModel.load(TestServers.TINY)) {
            ServedModel served = new ServedModel("tiny", model, new ByteCodec());
            for (int t = 0; t < THREADS; t++) alone.add(generate(served, t));
        }
        MoeModel model = MoeModel.load(TestServers.TINY);
        ServedModel served = new ServedModel("tiny", model, new ByteCodec());
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<List<float[]>>> runs = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                runs.clear();
                for (int t = 0; t < THREADS; t++) {
                    int seed = t;
                    runs.add(pool.submit(() -> generate(served, seed)));
                }
                for (int t = 0; t < THREADS; t++) {
                    List<float[]> got = runs.get(t).get(120, TimeUnit.SECONDS);
                    for (int step = 0; step < STEPS; step++) {
                        assertArrayEquals(alone.get(t).get(step), got.get(step), "generation " + t + ", step " + step + ", round " + round);
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        // closing walks the cache: it must end (a corrupted map loops forever)
        ExecutorService closer = Executors.newSingleThreadExecutor();
        try {
            closer.submit(() -> { model.close(); return null; }).get(60, TimeUnit.SECONDS);
        } finally {
            closer.shutdownNow();
        }
    }
}
