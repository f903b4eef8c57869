package org.routecal.compute.cuda;

import picocli.CommandLine.Option;

/**
 * picocli mixin for {@code --device cpu|cuda|auto}; add to a command with
 * {@code @Mixin DeviceOption device;} and call {@link #resolve()} once in {@code execute}.
 */
public final class DeviceOption {
    @Option(names = "--device", defaultValue = "auto", paramLabel = "cpu|cuda|auto",
            description = "Compute device: cpu, cuda (fail if no usable GPU) or auto (GPU when usable, else CPU; the choice "
                    + "and reason are logged). Default: ${DEFAULT-VALUE}. Overridden by -Droutecal.device.")
    String device = "auto";

    /** Parses, applies the override, probes and logs; see {@link DeviceChoice#resolve()}. */
    public DeviceChoice.Resolved resolve() { return DeviceChoice.parse(device).resolve(); }
}
