package org.routecal.compute.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.function.IntToDoubleFunction;
import java.util.stream.Stream;

/**
 * How many threads the CPU kernels use and the pool they run on. FMA-bound kernels gain nothing from SMT siblings
 * (two hyper-threads share one core's FMA units and L1) and lose to their cache contention, so the default is one
 * thread per physical core, read from Linux's CPU topology; {@code -Droutecal.threads=N} overrides it.
 */
public final class CpuThreads {
    private static volatile ForkJoinPool shared;

    private CpuThreads() {}

    /** -Droutecal.threads, else the physical cores this process may use. */
    public static int defaultThreads() {
        Integer forced = Integer.getInteger("routecal.threads");
        return forced != null && forced > 0 ? forced : physicalCores();
    }

    /**
     * Physical cores among the CPUs this JVM may run on: distinct (package, core) pairs of the online CPUs in
     * /sys/devices/system/cpu, capped by {@link Runtime#availableProcessors()} (which honours cgroup limits). Falls back
     * to availableProcessors where the topology is not readable (not Linux, restricted /sys).
     */
    public static int physicalCores() {
        int logical = Runtime.getRuntime().availableProcessors();
        Path root = Path.of("/sys/devices/system/cpu");
        try (Stream<Path> cpus = Files.list(root)) {
            Set<String> cores = new HashSet<>();
            int threads = 0;
            for (Path cpu : (Iterable<Path>) cpus.filter(p -> p.getFileName().toString().matches("cpu\\d+"))::iterator) {
                Path topo = cpu.resolve("topology");
                if (!Files.isReadable(topo.resolve("core_id"))) continue;
                Path online = cpu.resolve("online");
                if (Files.isReadable(online) && Files.readString(online).trim().equals("0")) continue;
                cores.add(Files.readString(topo.resolve("physical_package_id")).trim() + ":"
                        + Files.readString(topo.resolve("core_id")).trim());
                threads++;
            }
            if (cores.isEmpty()) return logical;
            // SMT ratio of the machine applied to what this process may use (a cgroup may grant any subset)
            int perCore = Math.max(1, threads / cores.size());
            return Math.max(1, Math.min(cores.size(), logical / perCore));
        } catch (IOException | SecurityException e) {
            return logical;
        }
    }

    /** The kernels' shared pool ({@link #defaultThreads()} workers), created on first use; null when that is 1. */
    public static ForkJoinPool sharedPool() {
        ForkJoinPool p = shared;
        if (p == null) {
            synchronized (CpuThreads.class) {
                p = shared;
                int n = defaultThreads();
                if (p == null && n > 1) shared = p = new ForkJoinPool(n);
            }
        }
        return p;
    }

    /**
     * Runs task(i) for i in [0, n) on the pool (null: on the calling thread, in order) and returns when all are done;
     * the first exception a task throws is rethrown (the tasks not yet started are skipped). A call from inside the
     * pool's own workers forks there (work stealing, no worker blocked on a nested invoke). A call from any other
     * thread works too: it and up to parallelism − 1 helpers on the pool claim tasks from a shared counter. Blocking it
     * in {@code pool.invoke} instead left both workers parked between calls and waking them cost 20–25 % of a split
     * 512×1024→1024 product on this 2-vCPU VM (155–173 vs 193–197 GFLOP/s). Helpers that run out of tasks stay
     * {@link #spinMicros} on the lookout for the next call's tasks before they go back to the pool (and park).
     */
    public static void forEach(ForkJoinPool pool, int n, IntConsumer task) {
        forEach(pool, n, task, false);
    }

    /**
     * {@link #forEach}, but the calling thread and each helper first take the tasks of a contiguous share of [0, n) of
     * their own (about n / threads of them, in order), then help with the others' shares. Neighbouring tasks that read
     * the same data (a panel product's tasks of one row block) then run on one core, out of its L2, rather than on
     * whichever thread claims them next; the tail still balances. Same results as forEach where tasks write their own
     * outputs.
     */
    public static void forEachInShares(ForkJoinPool pool, int n, IntConsumer task) {
        forEach(pool, n, task, true);
    }

    private static void forEach(ForkJoinPool pool, int n, IntConsumer task, boolean inShares) {
        if (pool == null || n <= 1) {
            for (int i = 0; i < n; i++) task.accept(i);
            return;
        }
        if (ForkJoinTask.getPool() == pool) {
            new Range(task, 0, n).invoke();
            return;
        }
        int helpers = Math.min(n, pool.getParallelism()) - 1;
        Shared work = new Shared(task, n, helpers, inShares ? helpers + 1 : 1);
        long linger = lingerNanos;
        Lookout lookout = linger > 0 ? lookout(pool) : null;
        if (lookout != null) {
            lookout.latest.set(work); // before counting the helpers: see Shared.help
            helpers -= lookout.alive.get();
            if (helpers > 0) lookout.alive.addAndGet(helpers);
        }
        for (int h = helpers; h > 0; h--) pool.execute(() -> work.help(lookout, linger));
        work.claimAndRun(0);
        work.awaitAll();
        if (lookout != null) lookout.latest.compareAndSet(work, null);
    }

    /**
     * Σ f(i) for i in [0, n), the terms computed on the pool and added in index order: the same bits on any number of
     * threads (a parallel stream's sum splits by the common pool's size, so it moved with the machine's core count).
     */
    public static double sum(ForkJoinPool pool, int n, IntToDoubleFunction f) {
        double[] terms = new double[n];
        forEach(pool, n, i -> terms[i] = f.applyAsDouble(i));
        double s = 0;
        for (double t : terms) s += t;
        return s;
    }

    /**
     * How long a helper with no task left spins for the next call's tasks, {@code -Droutecal.spinMicros} (default 500;
     * 0: return to the pool at once), in ns. A parked worker takes tens of µs to wake on a VM (its idle vCPU halted): on the
     * GPU machine's 16 vCPUs one call of 16 tasks of 47 µs took 113 µs, a fork and join of 66 µs that every product
     * paid (about a tenth of a 0.6 ms product) — OpenMP runtimes spin between parallel regions for the same reason.
     */
    private static volatile long lingerNanos = 1000L * Math.max(0, Integer.getInteger("routecal.spinMicros", 500));

    /** Sets the spin of helpers on the lookout for this JVM in µs (benchmarks compare settings in one process). */
    public static void spinMicros(int micros) { lingerNanos = 1000L * Math.max(0, micros); }

    /**
     * Per pool: the latest call from outside (its tasks for helpers on the lookout) and the helpers started and not yet
     * returned to the pool (queued, running tasks or on the lookout: each takes the latest call's tasks when it has
     * any, so a caller starts only the helpers beyond these).
     */
    private static final class Lookout {
        final AtomicReference<Shared> latest = new AtomicReference<>();
        final AtomicInteger alive = new AtomicInteger();
    }

    private static final Map<ForkJoinPool, Lookout> LOOKOUTS = Collections.synchronizedMap(new WeakHashMap<>());

    private static Lookout lookout(ForkJoinPool pool) {
        return LOOKOUTS.computeIfAbsent(pool, p -> new Lookout());
    }

    /**
     * Tasks claimed by the calling thread and its helpers from counters over [0, n) cut into {@code shares} contiguous
     * shares (one counter per share, on cache lines of their own): participant s (the caller 0, helpers 1, 2, … in the
     * order they join) starts in share s mod shares, then goes on to the next shares. The caller waits for the last one.
     */
    private static final class Shared {
        private static final int PAD = 16; // ints per counter: one 64-byte line each
        private final IntConsumer task;
        private final int n, maxHelpers, shares;
        private final AtomicIntegerArray next;
        private final AtomicInteger done = new AtomicInteger(), helpers = new AtomicInteger();
        private final Thread caller = Thread.currentThread();
        private volatile Throwable failure;

        Shared(IntConsumer task, int n, int maxHelpers, int shares) {
            this.task = task;
            this.n = n;
            this.maxHelpers = maxHelpers;
            this.shares = shares;
            next = new AtomicIntegerArray(shares * PAD);
            for (int r = 1; r < shares; r++) next.set(r * PAD, start(r));
        }

        private int start(int share) { return (int) ((long) share * n / shares); }

        boolean unclaimed() {
            for (int r = 0; r < shares; r++) if (next.get(r * PAD) < start(r + 1)) return true;
            return false;
        }

        /**
         * A helper's turn: claims tasks unless parallelism − 1 helpers already joined (so at most parallelism threads
         * run a call), then stays on the lookout for later calls' tasks. A caller counts the live helpers after
         * publishing its work, and a helper leaving looks at the latest work after it stops being counted (both
         * sequentially consistent): either the caller starts a helper in its place or it sees the work and helps.
         */
        void help(Lookout lookout, long linger) {
            join();
            if (lookout == null) return;
            Shared seen = this;
            ForkJoinPool own = ForkJoinTask.getPool();
            for (long deadline = System.nanoTime() + linger, spins = 0; ; spins++) {
                Shared s = lookout.latest.get();
                if (s != null && s != seen && s.unclaimed()) {
                    seen = s;
                    s.join();
                    deadline = System.nanoTime() + linger;
                } else if (System.nanoTime() - deadline > 0 || (spins & 255) == 255 && own != null && own.getQueuedTaskCount() > 0) {
                    // the lookout is over, or the pool has forked tasks waiting (a pool task's nested call): back to it
                    lookout.alive.decrementAndGet();
                    s = lookout.latest.get();
                    if (s != null && s != seen && s.unclaimed()) s.join();
                    return;
                } else {
                    Thread.onSpinWait();
                }
            }
        }

        /** A helper joins: participant 1, 2, … in the order they come, none beyond maxHelpers. */
        void join() {
            int slot = helpers.getAndIncrement();
            if (slot < maxHelpers) claimAndRun(slot + 1);
        }

        void claimAndRun(int participant) {
            for (int j = 0; j < shares; j++) {
                int r = (participant + j) % shares, end = start(r + 1);
                if (next.get(r * PAD) >= end) continue; // spares a drained share's line the increment
                for (int i; (i = next.getAndIncrement(r * PAD)) < end; ) {
                    try {
                        if (failure == null) task.accept(i);
                    } catch (Throwable t) {
                        synchronized (this) {
                            if (failure == null) failure = t;
                        }
                    }
                    if (done.incrementAndGet() == n && Thread.currentThread() != caller) LockSupport.unpark(caller);
                }
            }
        }

        void awaitAll() {
            boolean interrupted = false;
            for (int spins = 0; done.get() < n; spins++) {
                if (spins < 1 << 12) {
                    Thread.onSpinWait(); // the last task is usually nearly finished
                } else {
                    LockSupport.park(this);
                    interrupted |= Thread.interrupted(); // the tasks write shared arrays: wait for them regardless
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            Throwable t = failure;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    private static final class Range extends RecursiveAction {
        private final IntConsumer task;
        private final int lo, hi;

        Range(IntConsumer task, int lo, int hi) {
            this.task = task;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                task.accept(lo);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Range(task, lo, mid), new Range(task, mid, hi));
        }
    }
}
