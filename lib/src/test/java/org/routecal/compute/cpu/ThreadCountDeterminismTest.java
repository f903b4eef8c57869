package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.routecal.bench.ForwardBench;
import org.routecal.compute.Precision;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;
import org.routecal.model.RandomModels;

/**
 * The CPU forward pass gives the same bits on 1, 8 and the default number of threads: every kernel splits work over
 * rows or outputs, never over a sum, and the grouped expert product takes a different split at each count (per-task
 * packing on few threads, packed-first with split panels on many). Run in child JVMs, since the pool's size is fixed
 * per JVM. The model is big enough that the row-parallel ops (norms, rope, residual adds, combine) do split.
 */
class ThreadCountDeterminismTest {
    /** SHA-256 of the logits of a fixed random model and batch, as hex: what a child JVM prints. */
    public static void main(String[] args) throws Exception {
        System.out.println("logits " + logitsHash());
    }

    static String logitsHash() throws Exception {
        ForwardBench.Settings s = new ForwardBench.Settings(512, 2, 16, 4, 128, 8, 2, 64, 1000, 160, 2, 1, 7);
        try (MoeModel model = RandomModels.create(ForwardBench.config(s), s.seed(), new CpuBackend(Backends.select(), Precision.FP32, "test"))) {
            SplittableRandom rnd = new SplittableRandom(3);
            List<int[]> batch = new ArrayList<>();
            for (int b = 0; b < s.batch(); b++) batch.add(rnd.ints(s.seq() - 37 * b, 0, s.vocab()).toArray());
            float[] logits = model.forwardLogits(batch, ForwardTaps.NONE);
            ByteBuffer bytes = ByteBuffer.allocate(4 * logits.length);
            for (float f : logits) bytes.putInt(Float.floatToRawIntBits(f));
            StringBuilder hex = new StringBuilder();
            for (byte x : MessageDigest.getInstance("SHA-256").digest(bytes.array())) hex.append(String.format("%02x", x));
            return hex.toString();
        }
    }

    @Test
    void sameLogitsOnOneEightAndDefaultThreads() throws Exception {
        String here = logitsHash();
        for (int threads : new int[]{1, 8}) assertEquals(here, child(threads), "logits on " + threads + " threads vs " + CpuThreads.defaultThreads());
    }

    private static String child(int threads) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-Droutecal.threads=" + threads,
                "-cp", System.getProperty("java.class.path"), ThreadCountDeterminismTest.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError("child on " + threads + " threads failed:\n" + out);
        return out.lines().filter(l -> l.startsWith("logits ")).map(l -> l.substring(7)).findFirst()
                .orElseThrow(() -> new AssertionError("no hash from the child on " + threads + " threads:\n" + out));
    }
}
