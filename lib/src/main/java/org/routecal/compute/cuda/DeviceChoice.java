package org.routecal.compute.cuda;

import org.routecal.compute.cuda.ref.MoeOps;
import java.util.Locale;
import org.routecal.RoutecalException;
import org.routecal.compute.cuda.ref.ReferenceMoeOps;

/**
 * The user's {@code --device} choice and its resolution against what this machine has (STYLE H5: explicit, logged,
 * overridable). {@code -Droutecal.device=cpu|cuda|auto} overrides the flag, for scripts and tests.
 * <ul>
 *   <li>{@code cpu}: never touches CUDA.</li>
 *   <li>{@code cuda}: requires a usable GPU; otherwise a {@link RoutecalException} with the probe's reason.</li>
 *   <li>{@code auto}: CUDA when usable, else CPU with a logged line saying why.</li>
 * </ul>
 */
public enum DeviceChoice {
    CPU, CUDA, AUTO;

    /** System property that overrides the command-line choice. */
    public static final String PROPERTY = "routecal.device";

    /** Parses cpu|cuda|auto (case-insensitive); anything else is a user error naming the accepted values. */
    public static DeviceChoice parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new RoutecalException("--device: unknown value '" + s + "' (expected cpu, cuda or auto)");
        }
    }

    /** The outcome: which backend runs and the one line that says why (already logged by {@link #resolve}). */
    public record Resolved(DeviceChoice requested, boolean cuda, String message) {}

    /** Applies the system-property override, probes CUDA when needed and returns the decision (the caller prints it once). */
    public Resolved resolve() {
        String override = System.getProperty(PROPERTY);
        DeviceChoice c = override != null && !override.isBlank() ? parse(override) : this;
        String via = c != this ? " (from -D" + PROPERTY + ")" : "";
        Resolved r;
        if (c == CPU) {
            r = new Resolved(c, false, "device: cpu" + via);
        } else {
            CudaAvailability.Probe p = CudaAvailability.probe();
            if (p.available()) {
                r = new Resolved(c, true, "device: cuda, " + p.describe() + via);
            } else if (c == CUDA) {
                throw new RoutecalException("--device cuda" + via + ": " + p.reason());
            } else {
                r = new Resolved(c, false, "device: cpu (auto" + via + ": " + p.reason() + ")");
            }
        }
        return r;
    }

    /** Opens the kernel-level ops for a resolved choice; the caller closes them (which releases the CUDA context). */
    public static MoeOps open(Resolved r) {
        if (!r.cuda()) return new ReferenceMoeOps();
        return new CudaMoeOps(CudaContext.open(), true);
    }
}
