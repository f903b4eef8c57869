package org.routecal.compute.devices;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import org.routecal.RoutecalException;
import org.routecal.compute.Backend;
import org.routecal.compute.cpu.Backends;
import org.routecal.compute.cpu.CpuBackend;
import org.routecal.compute.cuda.CudaBackend;

/**
 * Several devices of one host working on one run ({@code --devices}): one {@link Backend} per device and one worker
 * thread per device. Every call on a device's backend runs on its thread, which keeps the Backend contract (one thread
 * at a time) and, on CUDA, the device's context current on that thread (memory copies use the calling thread's
 * context); work on different GPUs overlaps. Device 0 is the caller's backend (the session's, on the first listed
 * ordinal), which the group uses but does not close; the others it opens with the same kind and precision: a CUDA
 * context per listed ordinal (a repeated ordinal shares that GPU's primary context), or further CPU backends in this
 * JVM (logical devices over the shared kernel pool, for tests).
 *
 * <p>Data moves between devices through the host (download, add, upload; see {@code quant.DataParallelLayers}).
 * Peer copies ({@code cuMemcpyPeer}) or NCCL would replace that staging without changing this class's role.
 */
public final class DeviceGroup implements AutoCloseable {
    private final List<Integer> ordinals;
    private final List<Backend> backends = new ArrayList<>();
    private final List<ExecutorService> workers = new ArrayList<>();
    private final int opened; // backends [opened, size) were opened here and are closed here

    private DeviceGroup(Backend primary, List<Integer> ordinals) {
        if (ordinals.isEmpty()) throw new IllegalArgumentException("a device group needs at least one device");
        this.ordinals = List.copyOf(ordinals);
        this.opened = 1;
        startWorkers();
        backends.add(primary);
        try {
            for (int i = 1; i < ordinals.size(); i++) {
                int ordinal = ordinals.get(i), index = i;
                // opened on its own thread: a CUDA context becomes current where it is created
                backends.add(submit(i, () -> openLike(primary, ordinal, index)));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private DeviceGroup(List<Backend> given) {
        if (given.isEmpty()) throw new IllegalArgumentException("a device group needs at least one device");
        List<Integer> o = new ArrayList<>();
        for (int i = 0; i < given.size(); i++) o.add(i);
        this.ordinals = List.copyOf(o);
        this.opened = given.size();
        startWorkers();
        backends.addAll(given);
    }

    private void startWorkers() {
        for (int i = 0; i < ordinals.size(); i++) {
            int index = i;
            workers.add(Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "routecal-device-" + index);
                t.setDaemon(true);
                return t;
            }));
        }
    }

    /**
     * A group over backends the caller opened and closes (numbered 0, 1, …): logical devices of a backend the group
     * cannot open itself, such as a test's CPU backend with the device solver ops.
     */
    public static DeviceGroup of(List<Backend> backends) { return new DeviceGroup(backends); }

    /**
     * The group for {@code ordinals} whose first entry {@code primary} already runs on (the caller keeps owning it).
     * One ordinal: a group of the primary alone.
     */
    public static DeviceGroup open(Backend primary, List<Integer> ordinals) { return new DeviceGroup(primary, ordinals); }

    /** The group {@code options.devices} names, around the session's {@code primary} backend. */
    public static DeviceGroup open(Backend primary, DeviceOptions options) {
        boolean cuda = primary instanceof CudaBackend;
        return open(primary, DeviceList.parse(options.devices, cuda ? Devices.probeCudaCount() : 0));
    }

    private static Backend openLike(Backend primary, int ordinal, int index) {
        String reason = "device " + index + " of --devices";
        if (primary instanceof CudaBackend) return CudaBackend.open(primary.precision(), reason + " (cuda " + ordinal + ")", ordinal);
        return new CpuBackend(Backends.select(), primary.precision(), reason + " (logical cpu device)");
    }

    public int size() { return backends.size(); }

    public Backend backend(int device) { return backends.get(device); }

    /** The CUDA ordinal (or logical CPU number) of device {@code device}. */
    public int ordinal(int device) { return ordinals.get(device); }

    /**
     * Runs {@code task.apply(i)} on device i's thread for every device at once and returns the results in device order.
     * When tasks fail, all are still waited for, and the failure of the lowest device is thrown.
     */
    public <T> List<T> onEach(IntFunction<T> task) {
        List<Future<T>> futures = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            int device = i;
            futures.add(workers.get(i).submit(() -> {
                bind(backends.get(device));
                return task.apply(device);
            }));
        }
        List<T> out = new ArrayList<>();
        RuntimeException first = null;
        for (Future<T> f : futures) {
            try {
                out.add(f.get());
            } catch (ExecutionException e) {
                out.add(null);
                if (first == null) first = unwrap(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RoutecalException("interrupted while waiting for the devices", e);
            }
        }
        if (first != null) throw first;
        return out;
    }

    /** Runs {@code task} on device {@code device}'s thread and waits for it. */
    public <T> T on(int device, java.util.function.Supplier<T> task) {
        return submit(device, () -> {
            bind(backends.get(device));
            return task.get();
        });
    }

    private <T> T submit(int device, java.util.concurrent.Callable<T> task) {
        try {
            return workers.get(device).submit(task).get();
        } catch (ExecutionException e) {
            throw unwrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RoutecalException("interrupted while waiting for device " + device, e);
        }
    }

    /** Makes a CUDA backend's context current on the calling (worker) thread; nothing on the CPU. */
    private static void bind(Backend b) {
        if (b instanceof CudaBackend cb) cb.context().makeCurrent();
    }

    private static RuntimeException unwrap(ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof RuntimeException r) return r;
        if (c instanceof Error err) throw err;
        return new RoutecalException(String.valueOf(c.getMessage()), c);
    }

    /** Closes the backends the group opened (each on its own thread) and stops the workers; the caller's stay open. */
    @Override
    public void close() {
        for (int i = opened; i < backends.size(); i++) {
            Backend b = backends.get(i);
            try {
                submit(i, () -> {
                    b.close();
                    return null;
                });
            } catch (RuntimeException ignored) {
                // closing the others matters more than reporting a failed release
            }
        }
        workers.forEach(ExecutorService::shutdownNow);
    }
}
