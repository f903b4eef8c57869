package org.routecal.compute.devices;

import java.util.ArrayList;
import java.util.List;
import org.routecal.RoutecalException;

/**
 * The {@code --devices} list: which devices of this host one run spreads over. Without the option a run uses one
 * device (CUDA ordinal 0, or the CPU). {@code auto} is every visible GPU (one on the CPU). A list names CUDA ordinals
 * as CUDA numbers the visible devices ({@code CUDA_VISIBLE_DEVICES} applies first); an ordinal may repeat, which
 * makes several logical devices on one GPU (the multi-device code path tested on one GPU). On the CPU every entry is
 * a logical device in this JVM: the same partition, reduction and broadcast as on GPUs, without a speed-up.
 */
public final class DeviceList {
    private DeviceList() {}

    /**
     * @param spec      the option's value: null or blank (one device), {@code auto}, or comma-separated ordinals
     * @param available visible CUDA devices, or 0 on the CPU (any list is then logical)
     * @return the ordinals in the order given; the first is the primary device (the session's)
     */
    public static List<Integer> parse(String spec, int available) {
        if (spec == null || spec.isBlank()) return List.of(0);
        String s = spec.trim();
        if (s.equalsIgnoreCase("auto")) {
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < Math.max(1, available); i++) all.add(i);
            return List.copyOf(all);
        }
        List<Integer> out = new ArrayList<>();
        for (String part : s.split(",", -1)) {
            String p = part.trim();
            int ordinal;
            try {
                ordinal = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new RoutecalException("--devices " + spec + ": \"" + p + "\" is not a device number (expected auto or a list such as 0,1,2,3)");
            }
            if (ordinal < 0) throw new RoutecalException("--devices " + spec + ": device numbers start at 0, got " + ordinal);
            if (available > 0 && ordinal >= available) {
                throw new RoutecalException("--devices " + spec + ": there is no CUDA device " + ordinal + " (" + available
                        + " visible: 0.." + (available - 1) + "; check CUDA_VISIBLE_DEVICES)");
            }
            out.add(ordinal);
        }
        return List.copyOf(out);
    }

    /** The first device of {@code spec} without probing the machine (0 for none or auto): the session's backend. */
    public static int primary(String spec) {
        if (spec == null || spec.isBlank() || spec.trim().equalsIgnoreCase("auto")) return 0;
        return parse(spec, 0).get(0);
    }
}
