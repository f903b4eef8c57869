package org.routecal.demo;

import java.util.List;

/**
 * The demo's only source of randomness: SplitMix64 with Gaussians from Box–Muller over {@link StrictMath}, so the
 * generated corpus, tokenizer and checkpoint are the same bytes on every JVM and platform ({@code java.util.Random}'s
 * Gaussian uses {@code Math.log}, whose last bit may differ between intrinsics).
 */
final class DemoRandom {
    private long state;

    DemoRandom(long seed) {
        this.state = seed;
    }

    /** An independent stream for a named purpose (e.g. one per layer), so adding draws elsewhere changes nothing here. */
    DemoRandom fork(String purpose) {
        long h = state ^ 0x9E3779B97F4A7C15L;
        for (int i = 0; i < purpose.length(); i++) h = (h ^ purpose.charAt(i)) * 0x100000001B3L;
        return new DemoRandom(mix(h));
    }

    long nextLong() {
        state += 0x9E3779B97F4A7C15L;
        return mix(state);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, bound); the modulo bias (< 2^-40 for our bounds) does not matter for test data. */
    int nextInt(int bound) {
        return (int) Long.remainderUnsigned(nextLong(), bound);
    }

    /** Uniform in [lo, hi] inclusive. */
    int between(int lo, int hi) {
        return lo + nextInt(hi - lo + 1);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    boolean chance(double p) {
        return nextDouble() < p;
    }

    /** Standard normal (Box–Muller, one value per call). */
    double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // (0, 1]: log stays finite
        double u2 = nextDouble();
        return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2);
    }

    <T> T pick(List<T> items) {
        return items.get(nextInt(items.size()));
    }

    String pick(String... items) {
        return items[nextInt(items.length)];
    }
}
