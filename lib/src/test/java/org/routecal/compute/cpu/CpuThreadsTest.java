package org.routecal.compute.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * {@link CpuThreads#forEach}: every index runs exactly once, from an outside thread (which works alongside the pool's
 * helpers) and nested inside the pool's own tasks; the first exception reaches the caller only after every task that
 * started has finished; an interrupt does not cut the wait short and is kept for the caller.
 */
class CpuThreadsTest {
    private final ForkJoinPool pool = new ForkJoinPool(3);

    @Test
    void everyIndexOnceFromOutsideWithTheCallerWorking() {
        for (int n : new int[]{1, 2, 3, 7, 100, 1000}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            CpuThreads.forEach(pool, n, i -> {
                runs.incrementAndGet(i);
                threads.add(Thread.currentThread());
                spin(20_000);
            });
            for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "n " + n + ", index " + i);
            if (n >= 100) {
                assertTrue(threads.contains(Thread.currentThread()), "the caller ran tasks too");
                assertTrue(threads.size() <= 3, "at most parallelism threads: " + threads.size());
            }
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
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> CpuThreads.forEach(pool, 200, i -> {
            running.incrementAndGet();
            if (i == 5) throw boom;
            spin(50_000);
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

    private static void spin(long nanos) {
        long t = System.nanoTime();
        while (System.nanoTime() - t < nanos) Thread.onSpinWait();
    }
}
