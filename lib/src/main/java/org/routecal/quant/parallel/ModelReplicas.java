package org.routecal.quant.parallel;

import java.util.ArrayList;
import java.util.List;
import org.routecal.compute.devices.DeviceGroup;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.compute.cpu.CpuBackend;
import org.routecal.model.MoeModel;
import org.routecal.session.Session;

/**
 * One model on every device of a {@link DeviceGroup}: replica 0 is the session's model (on the first device of
 * {@code --devices}); the others are loaded from the same checkpoint on the other devices, each on its device's
 * thread, and closed with this object. A single device makes a group of one (today's one-device run).
 */
public final class ModelReplicas implements AutoCloseable {
    private final DeviceGroup group;
    private final List<MoeModel> models;

    private ModelReplicas(DeviceGroup group, List<MoeModel> models) {
        this.group = group;
        this.models = models;
    }

    /** The session's {@code primary} model alone. */
    public static ModelReplicas of(MoeModel primary) {
        return new ModelReplicas(DeviceGroup.open(primary.backend(), List.of(0)), List.of(primary));
    }

    /** {@code primary} on every device {@code options.devices} lists (its backend is the first of them). */
    public static ModelReplicas open(MoeModel primary, DeviceOptions options) {
        DeviceGroup group = DeviceGroup.open(primary.backend(), options);
        return load(primary, group);
    }

    /** {@code primary} on every device of {@code group} (device 0 must be the primary's backend). */
    public static ModelReplicas load(MoeModel primary, DeviceGroup group) {
        if (group.backend(0) != primary.backend()) throw new IllegalArgumentException("device 0 of the group must run the primary model");
        // logical CPU devices share one heap: each replica's weight cache gets a share of it
        int share = primary.backend() instanceof CpuBackend ? group.size() : 1;
        List<MoeModel> models = new ArrayList<>();
        models.add(primary);
        try {
            for (int d = 1; d < group.size(); d++) {
                int device = d;
                models.add(group.on(d, () -> Session.load(primary.dir(), group.backend(device), share)));
            }
        } catch (RuntimeException e) {
            new ModelReplicas(group, models).close();
            throw e;
        }
        return new ModelReplicas(group, List.copyOf(models));
    }

    public DeviceGroup devices() { return group; }

    public int size() { return models.size(); }

    /** The model on device {@code device} (0: the session's). */
    public MoeModel model(int device) { return models.get(device); }

    public MoeModel primary() { return models.get(0); }

    /** Closes the replicas this object loaded (each on its device's thread) and the devices the group opened. */
    @Override
    public void close() {
        for (int d = 1; d < models.size(); d++) {
            MoeModel m = models.get(d);
            try {
                group.on(d, () -> {
                    m.close();
                    return null;
                });
            } catch (RuntimeException ignored) {
                // release the rest regardless
            }
        }
        group.close();
    }
}
