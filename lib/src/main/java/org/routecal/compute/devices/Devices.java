package org.routecal.compute.devices;

import org.routecal.compute.Backend;
import org.routecal.compute.Precision;

import java.nio.file.Path;
import java.util.List;
import org.routecal.RoutecalException;
import org.routecal.compute.cpu.Backends;
import org.routecal.compute.cpu.CpuBackend;
import org.routecal.compute.cuda.CudaAvailability;
import org.routecal.compute.cuda.CudaBackend;
import org.routecal.compute.cuda.DeviceChoice;

/**
 * Opens the {@link Backend} for a run (STYLE H5: chosen once, logged once, passed down; no static singleton).
 * {@code --device auto} takes CUDA when a usable GPU is present and otherwise the CPU, and says why in one line;
 * {@code --device cuda} without a usable GPU is an error naming the cause. {@code -Droutecal.device} overrides the
 * flag. {@code --precision auto} is the checkpoint's dtype on a GPU (bf16 for a bf16 checkpoint) and fp32 on the CPU.
 */
public final class Devices {
    private Devices() {}

    /**
     * @param device    cpu, cuda or auto
     * @param precision bf16, fp32 or auto (null = auto)
     * @param modelDir  the checkpoint whose dtype decides {@code auto} precision on a GPU (null: bf16)
     */
    public static Backend open(String device, String precision, Path modelDir) { return open(device, precision, modelDir, null); }

    /**
     * As {@link #open(String, String, Path)} on the first device of {@code devices} (the {@code --devices} list, see
     * {@link DeviceList}; null: CUDA ordinal 0). The other devices of the list are opened by {@link DeviceGroup}.
     */
    public static Backend open(String device, String precision, Path modelDir, String devices) {
        DeviceChoice.Resolved r = DeviceChoice.parse(device).resolve();
        Precision p = Precision.parseOrAuto(precision);
        List<Integer> ordinals = DeviceList.parse(devices, r.cuda() ? probeCudaCount() : 0);
        Backend b;
        if (r.cuda()) {
            if (p == null) p = modelDir == null || CheckpointDtype.isBf16(modelDir) ? Precision.BF16 : Precision.FP32;
            b = CudaBackend.open(p, r.message(), ordinals.get(0));
        } else {
            if (p == null) p = Precision.FP32;
            b = new CpuBackend(Backends.select(), p, r.message());
        }
        // the one line that says which device runs and why (stderr: stdout carries results)
        String group = ordinals.size() > 1 ? "; --devices " + ordinals + (r.cuda() ? "" : " (logical CPU devices: no speed-up)")
                : ordinals.get(0) > 0 ? "; cuda device " + ordinals.get(0) : "";
        System.err.println("routecal: " + r.message() + "; precision " + b.precision().id() + group);
        return b;
    }

    /** Visible CUDA devices (0 without a usable GPU). */
    public static int probeCudaCount() { return CudaAvailability.deviceCount(); }

    /** The CPU reference backend in fp32 (tests, tools). */
    public static Backend cpu() { return new CpuBackend(Backends.select(), Precision.FP32, "cpu (reference)"); }

    /** Whether a usable GPU is present (and why not), for tests that skip without one. */
    public static CudaAvailability.Probe probeCuda() { return CudaAvailability.probe(); }

    static void require(boolean ok, String message) {
        if (!ok) throw new RoutecalException(message);
    }
}
