package org.routecal.compute.devices;

import org.routecal.compute.Backend;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --device cpu|cuda|auto}, {@code --precision auto|bf16|fp32} and {@code --devices}, one mixin for every command that computes
 * (route, quantize, evaluate, select, refine, synthesize, serve, demo); the notebook's {@code %%config device=…}
 * fills the same options.
 */
public final class DeviceOptions {
    @Option(names = "--device", defaultValue = "auto", paramLabel = "cpu|cuda|auto",
            description = "Compute device: cuda (fails with the cause if no usable GPU), cpu, or auto (the GPU when one is usable, "
                    + "else the CPU; the choice and the reason are printed). Default: ${DEFAULT-VALUE}.")
    public String device = "auto";

    @Option(names = "--precision", defaultValue = "auto", paramLabel = "auto|bf16|fp32",
            description = "Numerics: bf16 (bf16 weights and products, fp32 accumulation, as HF computes a bf16 checkpoint), "
                    + "fp32 (the CPU reference's numerics), or auto (the checkpoint's dtype on a GPU, fp32 on the CPU). "
                    + "Default: ${DEFAULT-VALUE}.")
    public String precision = "auto";

    @Option(names = "--devices", paramLabel = "auto|N[,N...]",
            description = "Devices of this host for one run: CUDA ordinals (0,1,2,3), or auto (every visible GPU). quantize spreads "
                    + "its calibration over all of them (data-parallel forward, expert-parallel GPTQ); other commands run on the first. "
                    + "An ordinal may repeat (logical devices on one GPU); with --device cpu each entry is a logical CPU device "
                    + "(same results, no speed-up: for testing). Default: one device (CUDA ordinal 0).")
    public String devices;

    /** Opens the backend for a run on {@code modelDir}: the first device of {@link #devices}. */
    public Backend open(Path modelDir) { return Devices.open(device, precision, modelDir, devices); }
}
