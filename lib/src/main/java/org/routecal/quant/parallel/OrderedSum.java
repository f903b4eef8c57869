package org.routecal.quant.parallel;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sums per-device partial arrays on the host in device order, whatever order the devices deliver them in: the result
 * for a key is ((p₀ + p₁) + p₂) + … bit for bit, so a multi-device run reduces deterministically and a run on the same
 * devices always gives the same Hessians. A partial that arrives before its turn waits until the devices before it
 * have delivered; a device with nothing for a key says so ({@link #skip}). The adds run on the delivering threads
 * (one per device), so different keys are summed in parallel. Thread-safe.
 *
 * <p>This is the host-staged reduction (download → add → hand to the owner). On GPUs with peer access the same order
 * could be kept by a chain of {@code cuMemcpyPeer} + device adds, or NCCL's reduce (whose order is fixed per
 * communicator but not this one).
 *
 * @param <K> what a partial belongs to (a module's Hessian, an expert's Hessian part)
 */
public final class OrderedSum<K> {
    private final int devices;
    private final Map<K, Slot> slots = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();

    private static final double[] SKIPPED = new double[0];

    /** One key's running sum, the next device whose partial it takes, and partials that came early. */
    private static final class Slot {
        double[] sum;
        int next;
        final TreeMap<Integer, double[]> early = new TreeMap<>();
    }

    public OrderedSum(int devices) {
        if (devices < 1) throw new IllegalArgumentException("devices must be ≥ 1");
        this.devices = devices;
    }

    /** Device {@code device}'s partial for {@code key} (kept, not copied: the caller hands it over). */
    public void add(K key, int device, double[] partial) {
        bytes.addAndGet(8L * partial.length);
        deliver(key, device, partial);
    }

    /** Device {@code device} has no partial for {@code key} (it ran no rows for it). */
    public void skip(K key, int device) { deliver(key, device, SKIPPED); }

    private void deliver(K key, int device, double[] partial) {
        if (device < 0 || device >= devices) throw new IllegalArgumentException("device " + device + " of " + devices);
        Slot s = slots.computeIfAbsent(key, k -> new Slot());
        synchronized (s) {
            if (device < s.next || s.early.containsKey(device)) throw new IllegalStateException("device " + device + " delivered " + key + " twice");
            s.early.put(device, partial);
            while (!s.early.isEmpty() && s.early.firstKey() == s.next) {
                double[] p = s.early.pollFirstEntry().getValue();
                s.next++;
                if (p == SKIPPED) continue;
                if (s.sum == null) {
                    s.sum = p;
                } else {
                    if (p.length != s.sum.length) throw new IllegalArgumentException(key + ": partial of " + p.length + " values, sum has " + s.sum.length);
                    for (int i = 0; i < p.length; i++) s.sum[i] += p[i];
                }
            }
        }
    }

    /** The sum for {@code key} once every device delivered (null when all skipped); an error before that. */
    public double[] result(K key) {
        Slot s = slots.get(key);
        if (s == null) throw new IllegalStateException("no device delivered " + key);
        synchronized (s) {
            if (s.next != devices) throw new IllegalStateException(key + ": " + s.next + " of " + devices + " devices delivered in order");
            return s.sum;
        }
    }

    /** Every complete key's sum (null values: all skipped), and forgets them. */
    public Map<K, double[]> drain() {
        Map<K, double[]> out = new LinkedHashMap<>();
        for (K k : slots.keySet()) out.put(k, result(k));
        slots.clear();
        return out;
    }

    /** Bytes of partials handed to the host so far (what crossed from the devices). */
    public long bytesReceived() { return bytes.get(); }
}
