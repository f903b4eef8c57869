package org.routecal.session;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.routecal.RoutecalException;
import org.routecal.pipeline.Progress;
import org.routecal.compute.Backend;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.quant.ct.CompressedTensorsReader;

/**
 * What a sequence of stage calls shares: one compute backend (opened once, on the device the first model asks for),
 * each model loaded once (the demo's eleven stages and a notebook's cells reuse them), progress, and cancellation.
 * The CLI opens one session per command; {@code demo} and the notebook kernel keep one for many stages.
 * Stages take the models they need from here and never open checkpoints themselves.
 */
public final class Session implements AutoCloseable {
    private final Progress progress;
    private final Map<Path, MoeModel> models = new LinkedHashMap<>();
    private final Map<Path, String> fingerprints = new LinkedHashMap<>(); // the checkpoint files a cached model was read from
    private Backend backend;
    private String backendKey;
    private volatile boolean cancelled;

    public Session(Progress progress) {
        this.progress = progress == null ? Progress.NONE : progress;
    }

    public Progress progress() { return progress; }

    /** The backend for {@code device}, opened on first use (its auto precision decided by {@code modelDir}'s dtype). */
    public Backend backend(DeviceOptions device, Path modelDir) {
        String key = device.device + "/" + device.precision + "/" + org.routecal.compute.devices.DeviceList.primary(device.devices);
        if (backend != null && !key.equals(backendKey)) closeModelsAndBackend(); // another device asked for: start over
        if (backend == null) {
            backend = device.open(modelDir);
            backendKey = key;
        }
        return backend;
    }

    /** The open backend, if a model was loaded (stages that only need the device a model runs on). */
    public Backend backend() {
        if (backend == null) throw new IllegalStateException("no backend open: load a model first");
        return backend;
    }

    /**
     * The model in {@code dir} on the session's backend, loaded once: an HF checkpoint, or a compressed-tensors
     * checkpoint (ours or llm-compressor's) dequantized on load.
     */
    public MoeModel model(Path dir, DeviceOptions device) {
        Path key = dir.toAbsolutePath().normalize();
        MoeModel m = models.get(key);
        String fingerprint = fingerprint(key);
        if (m != null && fingerprint.equals(fingerprints.get(key))) return m;
        if (m != null) { // rewritten since it was loaded (a notebook re-ran quantize into the same --out): read it again
            progress.message("reloading " + dir + ": its files changed since it was loaded");
            unload(key);
        }
        Backend b = backend(device, dir);
        checkCancelled();
        progress.message("loading model " + dir);
        m = load(dir, b, 1);
        models.put(key, m);
        fingerprints.put(key, fingerprint);
        return m;
    }

    /**
     * Loads {@code dir} on {@code b} as the session does (an HF checkpoint, or a compressed-tensors one dequantized on
     * load) with {@code 1/share} of the default weight cache: further replicas of a session's model on other devices
     * (several logical CPU devices share one heap).
     */
    public static MoeModel load(Path dir, Backend b, int share) {
        if (CompressedTensorsReader.isCompressedTensors(dir)) {
            return new MoeModel(dir, ModelConfig.load(dir), CompressedTensorsReader.open(dir), b, MoeModel.defaultBudget(b) / 2 / share);
        }
        if (share == 1) return MoeModel.load(dir, b);
        return new MoeModel(dir, ModelConfig.load(dir), org.routecal.model.CheckpointSource.open(dir), b, MoeModel.defaultBudget(b) / share);
    }

    /** Names, sizes and modification times of a checkpoint directory's top-level files: changes when it is rewritten. */
    private static String fingerprint(Path dir) {
        StringBuilder b = new StringBuilder();
        try (var files = java.nio.file.Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                var a = java.nio.file.Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class);
                if (a.isRegularFile()) b.append(f.getFileName()).append(':').append(a.size()).append(':').append(a.lastModifiedTime().toMillis())
                        .append(':').append(a.fileKey()).append(';');
            }
        } catch (java.io.IOException e) {
            return "unreadable"; // the load itself reports what is wrong with the directory
        }
        return b.toString();
    }

    /** The checkpoint directories loaded now (absolute), in load order. */
    public java.util.List<Path> loadedModels() { return java.util.List.copyOf(models.keySet()); }

    /** Forgets a cached model (its checkpoint changed on disk, e.g. a quantize output written in this session). */
    public void unload(Path dir) {
        fingerprints.remove(dir.toAbsolutePath().normalize());
        MoeModel m = models.remove(dir.toAbsolutePath().normalize());
        if (m != null) m.close();
    }

    /** Asks the running stage to stop at its next check (the kernel's interrupt; safe from any thread). */
    public void cancel() { cancelled = true; }

    /** Throws if {@link #cancel()} was called; long stages call this between batches and layers. */
    public void checkCancelled() {
        if (cancelled) throw new Cancelled();
    }

    /** A stage stopped by {@link #cancel()}: what it wrote so far stays as an incomplete (replaceable) run. */
    public static final class Cancelled extends RoutecalException {
        Cancelled() { super("cancelled", null, 130); }
    }

    private void closeModelsAndBackend() {
        for (MoeModel m : models.values()) m.close();
        models.clear();
        fingerprints.clear();
        if (backend != null) backend.close();
        backend = null;
        backendKey = null;
    }

    @Override
    public void close() { closeModelsAndBackend(); }
}
