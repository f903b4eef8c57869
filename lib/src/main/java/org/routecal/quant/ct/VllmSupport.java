package org.routecal.quant.ct;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.QuantScheme;

/**
 * What vLLM can and cannot serve of a compressed-tensors checkpoint we write, as sentences for the output README and
 * {@code inspect}. Read from vLLM's source (model_executor/layers/quantization/compressed_tensors, mid 2026):
 * <ul>
 *   <li>The Marlin-backed {@code CompressedTensorsWNA16} scheme and the fused-MoE WNA16 methods take pack-quantized int
 *       weights of 4 and 8 bits only ({@code WNA16_SUPPORTED_BITS}); zero points (asymmetric) only at 4 and 8 bits
 *       ({@code WNA16_ZP_SUPPORTED_TYPES_MAP}). A fused-MoE layer at another width is refused ("For Fused MoE layers,
 *       only format pack-quantized and bits [4, 8] are supported").</li>
 *   <li>Other widths go to the Humming kernels: dense layers since vLLM PR #46389 (2/3/5/6/7-bit weight-only), MoE
 *       experts at 2 bits since PR #48918; 3/5/6/7-bit MoE experts (ceil-packed shapes) were still an open PR (#52799)
 *       when this was checked. Humming needs its own package and a Turing-or-newer GPU.</li>
 *   <li>The fused-MoE loader reads the scheme of expert 0's gate/up/down projections and uses it for every expert of
 *       the layer (one packed 3-D tensor per layer), so experts of one layer cannot have different widths.</li>
 *   <li>compressed-tensors 0.18 packs 3/5/6/7-bit values densely across int32 words; older readers assume
 *       {@code 32 // bits} values per word and decode such a checkpoint wrongly.</li>
 * </ul>
 * Re-check these against the vLLM version you serve with; the GPU run that serves our checkpoints is the proof.
 */
public final class VllmSupport {
    private VllmSupport() {}

    /** Widths vLLM's Marlin/WNA16 kernels serve (dense and fused MoE). */
    public static final Set<Integer> MARLIN_BITS = Set.of(4, 8);

    /** Sentences about serving one scheme with vLLM; empty when vLLM's standard kernels serve it. */
    public static List<String> notes(QuantScheme scheme) {
        List<String> out = new ArrayList<>();
        if (!(scheme instanceof IntScheme is)) return out;
        int b = is.bits();
        if (!MARLIN_BITS.contains(b)) {
            out.add(b + "-bit weights: vLLM's standard (Marlin/WNA16) kernels serve only 4- and 8-bit pack-quantized weights. "
                    + "Dense layers at " + b + " bits need a vLLM with the Humming kernels (vLLM PR #46389, the humming package, "
                    + "a Turing or newer GPU); MoE experts at " + b + " bits "
                    + (b == 2 ? "need vLLM PR #48918 (Humming fused MoE, 2-bit)" : "were not servable by merged vLLM when this was checked "
                    + "(3/5/6/7-bit Humming MoE was open upstream as PR #52799); vLLM without it refuses the layer")
                    + ".");
            if (32 % b != 0) {
                out.add(b + "-bit values are packed densely across int32 words (compressed-tensors ≥ 0.18); readers built for "
                        + "compressed-tensors ≤ 0.17 assume " + 32 / b + " values per word and decode them wrongly.");
            }
        }
        if (!is.symmetric() && !MARLIN_BITS.contains(b)) {
            out.add("asymmetric " + b + "-bit weights: vLLM's WNA16 kernels take zero points only at 4 and 8 bits.");
        }
        return out;
    }

    /**
     * Sentences about serving a whole checkpoint with vLLM.
     *
     * @param config                  the quantization config written
     * @param widthsDifferWithinLayer true when experts of one MoE layer were given different widths
     */
    public static List<String> notes(CtQuantConfig config, boolean widthsDifferWithinLayer) {
        Set<String> out = new java.util.LinkedHashSet<>();
        Set<Integer> bits = new TreeSet<>();
        for (CtQuantConfig.Group g : config.groups()) {
            out.addAll(notes(g.scheme()));
            if (g.scheme() instanceof IntScheme is) bits.add(is.bits());
        }
        if (widthsDifferWithinLayer) {
            out.add("experts of one MoE layer have different widths " + bits + ": vLLM's fused-MoE loader applies expert 0's "
                    + "scheme to every expert of a layer, so vLLM cannot serve this checkpoint; allocate per layer (all experts "
                    + "of a layer at one width) for a servable one. routecal's own reader and evaluate load it.");
        }
        return List.copyOf(out);
    }
}
