package org.routecal.quant.scheme;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.routecal.RoutecalException;

/**
 * The one parser from a scheme id (the CLI's {@code --scheme}) to a {@link QuantScheme}: {@code w2a16} … {@code w8a16}
 * (integer weights of that width, 16-bit activations), {@code fp8}, {@code nvfp4}.
 */
public final class QuantSchemes {
    private QuantSchemes() {}

    /** Integer widths a scheme id may name (compressed-tensors' pack-quantized packs 1..8; below 2 is not a grid). */
    public static final int MIN_INT_BITS = 2, MAX_INT_BITS = 8;
    private static final Pattern INT_ID = Pattern.compile("w(\\d+)a16");

    /** Every id {@link #parse} accepts, in order. */
    public static List<String> ids() {
        List<String> out = new ArrayList<>();
        for (int b = MIN_INT_BITS; b <= MAX_INT_BITS; b++) out.add(intId(b));
        out.add("fp8");
        out.add("nvfp4");
        return out;
    }

    /** {@code w<bits>a16}. */
    public static String intId(int bits) {
        return "w" + bits + "a16";
    }

    /**
     * The scheme named {@code id}.
     *
     * @param symmetric    int schemes: no zero point
     * @param groupSize    int schemes: input columns per scale group, 0 = one scale per output channel
     * @param fp8PerTensor fp8: one scale for the whole weight
     * @param dtype        the model's dtype: int and fp8 scales are stored in it, NVFP4 values decode to it
     */
    public static QuantScheme parse(String id, boolean symmetric, int groupSize, boolean fp8PerTensor, ScaleDType dtype) {
        String s = id == null ? "" : id.trim().toLowerCase(Locale.ROOT);
        Matcher m = INT_ID.matcher(s);
        if (m.matches()) {
            int bits = Integer.parseInt(m.group(1));
            if (bits < MIN_INT_BITS || bits > MAX_INT_BITS) throw unknown(id);
            if (groupSize < 0) throw new RoutecalException("group size must be ≥ 0 (0 = per channel), got " + groupSize);
            return new IntScheme(bits, symmetric, groupSize, dtype);
        }
        return switch (s) {
            case "fp8" -> new Fp8Scheme(fp8PerTensor, dtype);
            case "nvfp4" -> new Nvfp4Scheme(dtype);
            default -> throw unknown(id);
        };
    }

    private static RoutecalException unknown(String id) {
        return new RoutecalException("unknown scheme '" + id + "' (expected one of " + String.join(", ", ids()) + ")");
    }
}
