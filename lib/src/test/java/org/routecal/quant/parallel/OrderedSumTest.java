package org.routecal.quant.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The host reduction: device order whatever the arrival order, skips, and misuse. */
class OrderedSumTest {
    /** Values whose float sum depends on the order of additions. */
    static double[][] partials(int devices, int n, long seed) {
        Random r = new Random(seed);
        double[][] p = new double[devices][n];
        for (int d = 0; d < devices; d++) for (int i = 0; i < n; i++) p[d][i] = (r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(12));
        return p;
    }

    static double[] inDeviceOrder(double[][] p) {
        double[] s = p[0].clone();
        for (int d = 1; d < p.length; d++) for (int i = 0; i < s.length; i++) s[i] += p[d][i];
        return s;
    }

    @Test
    void anyArrivalOrderGivesTheDeviceOrderSumBitForBit() throws Exception {
        int devices = 5, keys = 40, n = 64;
        double[][][] parts = new double[keys][][];
        for (int k = 0; k < keys; k++) parts[k] = partials(devices, n, k);
        double[] reversed = parts[0][devices - 1].clone();
        for (int d = devices - 2; d >= 0; d--) for (int i = 0; i < n; i++) reversed[i] += parts[0][d][i];
        assertNotEquals(java.util.Arrays.toString(inDeviceOrder(parts[0])), java.util.Arrays.toString(reversed),
                "these partials are order-sensitive, so the test below can fail");
        for (int trial = 0; trial < 5; trial++) {
            OrderedSum<Integer> sum = new OrderedSum<>(devices);
            ExecutorService pool = Executors.newFixedThreadPool(devices);
            List<Future<?>> fs = new ArrayList<>();
            Random r = new Random(trial);
            for (int d = 0; d < devices; d++) {
                int device = d;
                List<Integer> order = new ArrayList<>();
                for (int k = 0; k < keys; k++) order.add(k);
                Collections.shuffle(order, new Random(r.nextLong())); // each device delivers its keys in its own order
                fs.add(pool.submit(() -> {
                    for (int k : order) sum.add(k, device, parts[k][device].clone());
                }));
            }
            for (Future<?> f : fs) f.get();
            pool.shutdown();
            for (int k = 0; k < keys; k++) assertArrayEquals(inDeviceOrder(parts[k]), sum.result(k), "key " + k);
            assertEquals(8L * n * keys * devices, sum.bytesReceived());
        }
    }

    @Test
    void skippedDevicesAddNothingAndAllSkippedIsNull() {
        double[][] p = partials(3, 8, 1);
        OrderedSum<String> sum = new OrderedSum<>(3);
        sum.add("a", 2, p[2].clone());
        sum.skip("a", 0);
        sum.add("a", 1, p[1].clone());
        double[] expected = p[1].clone();
        for (int i = 0; i < 8; i++) expected[i] += p[2][i];
        assertArrayEquals(expected, sum.result("a"));
        for (int d = 0; d < 3; d++) sum.skip("none", d);
        assertNull(sum.result("none"));
        assertEquals(2, sum.drain().size());
    }

    @Test
    void misuseIsAnError() {
        OrderedSum<String> sum = new OrderedSum<>(2);
        sum.add("a", 0, new double[]{1});
        assertThrows(IllegalStateException.class, () -> sum.add("a", 0, new double[]{1}), "twice");
        assertThrows(IllegalStateException.class, () -> sum.result("a"), "device 1 has not delivered");
        assertThrows(IllegalArgumentException.class, () -> sum.add("a", 1, new double[]{1, 2}), "shape");
        assertThrows(IllegalArgumentException.class, () -> sum.skip("b", 2), "no device 2");
        assertThrows(IllegalStateException.class, () -> sum.result("c"), "nobody delivered c");
    }
}
