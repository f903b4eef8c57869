package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link CpuThreads#forEach} and {@link CpuThreads#forEachInShares}: every index runs exactly once, from an outside thread (which works alongside the pool's
 * helpers) and nested inside the pool's own tasks; the first exception reaches the caller only after every task that
 * started has finished; an interrupt does not cut the wait short and is kept for the caller.
 */
class CpuThreadsTest {
    private final ForkJoinPool pool = new ForkJoinPool(3);

    @ParameterizedTest(name = "in shares {0}")
    @ValueSource(booleans = {false, true})
    void everyIndexOnceFromOutside(boolean inShares) {
        for (int n : new int[]{1, 2, 3, 7, 100, 1000}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            ForEach forEach = inShares ? CpuThreads::forEachInShares : CpuThreads::forEach;
            forEach.run(pool, n, i -> {
                runs.incrementAndGet(i);
                threads.add(Thread.currentThread());
                spin(20_000);
            });
            for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "n " + n + ", index " + i);
            assertTrue(threads.size() <= 3, "at most parallelism threads: " + threads.size());
        }
    }

    /**
     * The helpers block in their first task until the caller has run one: if the caller only waited (parked in the
     * pool, as before), nobody would be left to take a task and this would time out. Timing-free: a busy machine that
     * lets the helpers take every task of a short loop (CI on 2 cores did) cannot fail it.
     */
    @Test
    void theCallerTakesTasksToo() throws InterruptedException {
        Thread caller = Thread.currentThread();
        CountDownLatch callerRan = new CountDownLatch(1);
        AtomicInteger helperTimeouts = new AtomicInteger();
        CpuThreads.forEach(pool, 100, i -> {
            if (Thread.currentThread() == caller) {
                callerRan.countDown();
                return;
            }
            try {
                if (!callerRan.await(30, TimeUnit.SECONDS)) helperTimeouts.incrementAndGet();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertEquals(0, callerRan.getCount(), "the caller ran no task");
        assertEquals(0, helperTimeouts.get(), "helpers waited 30 s for the caller");
    }

    /**
     * In shares, the caller starts at index 0 and the two helpers at the starts of shares of their own (100 and 200 of
     * 300): each thread's first task waits until all three have claimed one, so none can have drained another's share
     * first (timing-free).
     */
    @Test
    void inSharesEachThreadStartsAtTheStartOfItsOwnShare() {
        CountDownLatch allStarted = new CountDownLatch(3);
        Map<Thread, Integer> first = new ConcurrentHashMap<>();
        AtomicIntegerArray runs = new AtomicIntegerArray(300);
        AtomicInteger timeouts = new AtomicInteger();
        CpuThreads.forEachInShares(pool, 300, i -> {
            runs.incrementAndGet(i);
            if (first.putIfAbsent(Thread.currentThread(), i) == null) {
                allStarted.countDown();
                try {
                    if (!allStarted.await(30, TimeUnit.SECONDS)) timeouts.incrementAndGet();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        for (int i = 0; i < 300; i++) assertEquals(1, runs.get(i), "index " + i);
        assertEquals(0, timeouts.get(), "three threads never ran a task each");
        assertEquals(0, first.get(Thread.currentThread()), "the caller's first index");
        assertEquals(Set.of(0, 100, 200), new HashSet<>(first.values()), "first indices");
    }

    @FunctionalInterface
    private interface ForEach {
        void run(ForkJoinPool pool, int n, java.util.function.IntConsumer task);
    }

    /** The sum's terms run on the pool but add in index order: the bits of a serial loop, whatever the threads. */
    @Test
    void sumAddsInIndexOrderOnAnyPool() {
        int n = 10_000;
        java.util.function.IntToDoubleFunction term = i -> (i % 3 == 0 ? 1e16 : i % 3 == 1 ? 1.0 + i * 1e-3 : -1e16) / (1 + i % 7);
        double serial = 0;
        for (int i = 0; i < n; i++) serial += term.applyAsDouble(i);
        for (ForkJoinPool p : new ForkJoinPool[]{null, pool, new ForkJoinPool(2)}) {
            assertEquals(Double.doubleToRawLongBits(serial), Double.doubleToRawLongBits(CpuThreads.sum(p, n, term)), "pool " + p);
        }
    }

    @Test
    void nestedCallsInsideThePool() {
        AtomicIntegerArray runs = new AtomicIntegerArray(8 * 50);
        CpuThreads.forEach(pool, 8, outer -> CpuThreads.forEach(pool, 50, inner -> runs.incrementAndGet(outer * 50 + inner)));
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "index " + i);
    }

    @Test
    void theFirstExceptionAfterTheStartedTasksFinish() {
        AtomicInteger running = new AtomicInteger(), finished = new AtomicInteger();
        IllegalStateException boom = new IllegalStateException("task 5");
        CountDownLatch thrownSoon = new CountDownLatch(1);
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> CpuThreads.forEach(pool, 200, i -> {
            running.incrementAndGet();
            if (i == 5) {
                thrownSoon.countDown();
                throw boom;
            }
            // Tasks after the failing one start only once it is thrown and then take 1 ms: the failure has ample
            // time to stop the rest, however the threads are scheduled.
            if (i > 5) awaitQuietly(thrownSoon);
            spin(i > 5 ? 1_000_000 : 50_000);
            finished.incrementAndGet();
        }));
        assertSame(boom, thrown);
        assertEquals(running.get() - 1, finished.get(), "returned while a task was still running");
        assertTrue(running.get() < 200, "tasks after the failure are skipped: " + running.get());
    }

    @Test
    void anInterruptWaitsForTheTasksAndIsKept() {
        Thread caller = Thread.currentThread();
        AtomicInteger finished = new AtomicInteger();
        CpuThreads.forEach(pool, 6, i -> {
            if (i == 0) caller.interrupt(); // whichever thread runs it, the caller may still have to wait
            spin(2_000_000);
            finished.incrementAndGet();
        });
        assertEquals(6, finished.get());
        assertTrue(Thread.interrupted(), "the interrupt is kept (and cleared here)");
    }

    /**
     * Helpers on the lookout take the next call's tasks instead of new helpers being started: over 3,000 back-to-back
     * calls (each on a fresh pool's worth of indices) every index runs once, no call runs on more than parallelism
     * threads, and no helper tasks pile up in the pool's queue (a miscounted lookout would add two per call).
     */
    @Test
    void backToBackCallsShareTheHelpersOnTheLookout() {
        int maxThreads = 0;
        long maxQueued = 0;
        for (int call = 0; call < 3000; call++) {
            int n = 1 + call % 7;
            boolean slow = call % 3 == 0;
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            ForEach forEach = call % 2 == 0 ? CpuThreads::forEach : CpuThreads::forEachInShares;
            forEach.run(pool, n, i -> {
                runs.incrementAndGet(i);
                threads.add(Thread.currentThread());
                if (slow) spin(5_000);
            });
            for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "call " + call + ", index " + i);
            maxThreads = Math.max(maxThreads, threads.size());
            maxQueued = Math.max(maxQueued, pool.getQueuedSubmissionCount() + pool.getQueuedTaskCount());
        }
        assertTrue(maxThreads <= 3, "a call ran on " + maxThreads + " threads, parallelism is 3");
        assertTrue(maxQueued <= 4, "helper tasks queued in the pool: " + maxQueued);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void spin(long nanos) {
        long t = System.nanoTime();
        while (System.nanoTime() - t < nanos) Thread.onSpinWait();
    }
}
