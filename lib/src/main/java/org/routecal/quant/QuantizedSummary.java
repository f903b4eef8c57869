package org.routecal.quant;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.ModelSummary;
import org.routecal.quant.ct.CompressedTensorsReader;
import org.routecal.quant.ct.CtQuantConfig;
import org.routecal.quant.ct.VllmSupport;
import org.routecal.quant.scheme.Fp8Scheme;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.QuantScheme;

/**
 * {@code inspect} on a compressed-tensors checkpoint: the model summary (weights counted as their dequantized
 * shapes), the config groups' schemes, and what vLLM can and cannot serve of it ({@link VllmSupport}, the same notes
 * the quantize stage writes into the checkpoint's README.md).
 */
public record QuantizedSummary(ModelSummary model, CtQuantConfig config, boolean widthsDifferWithinLayer, List<String> vllmNotes) {

    public static QuantizedSummary of(Path dir, int forwardTokens) {
        ModelConfig c = ModelConfig.load(dir);
        try (CompressedTensorsReader r = CompressedTensorsReader.open(dir)) {
            ModelSummary s = ModelSummary.of(dir, c, r, forwardTokens);
            CtQuantConfig q = r.config();
            if (q == null) return new QuantizedSummary(s, null, false, List.of()); // FP8 blocks: a published format, not ours
            boolean differ = widthsDifferWithinLayer(c, q);
            return new QuantizedSummary(s, q, differ, VllmSupport.notes(q, differ));
        }
    }

    /** True when two routed experts of one MoE layer resolve to different schemes (vLLM takes expert 0's for all). */
    static boolean widthsDifferWithinLayer(ModelConfig c, CtQuantConfig q) {
        Set<String> ignored = new HashSet<>(q.ignore());
        for (int l = 0; l < c.layerCount(); l++) {
            if (!c.isMoeLayer(l)) continue;
            Set<QuantScheme> seen = new HashSet<>();
            for (LinearModules.Module m : LinearModules.ofLayer(c, l)) {
                if (m.expert() < 0 || ignored.contains(m.module())) continue;
                seen.add(q.schemeOf(m.module()));
            }
            if (seen.size() > 1) return true;
        }
        return false;
    }

    /** e.g. "w3a16 (int3 weights, symmetric, group size 128)". */
    public static String describe(QuantScheme s) {
        if (s instanceof IntScheme is) {
            return "w" + is.bits() + "a16 (int" + is.bits() + " weights, " + (is.symmetric() ? "symmetric" : "asymmetric") + ", "
                    + (is.groupSize() > 0 ? "group size " + is.groupSize() : "one scale per output channel") + ")";
        }
        if (s instanceof Fp8Scheme fs) return "fp8 (E4M3 weights, " + (fs.perTensor() ? "one scale per tensor" : "one scale per output channel") + ")";
        return "nvfp4 (E2M1 weights, FP8 scale per 16, FP32 global scale)";
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(model.toString());
        if (config == null) return s.append("quantized    FP8 blocks (published format; routecal decodes it)\n").toString();
        s.append("quantized    compressed-tensors ").append(config.formatId()).append(", ").append(config.ignore().size())
                .append(" Linear modules left unquantized\n");
        for (CtQuantConfig.Group g : config.groups()) {
            s.append("  scheme     ").append(describe(g.scheme())).append(": ")
                    .append(!g.targets().equals(List.of(CtQuantConfig.LINEAR)) ? g.targets().size() + " target pattern(s)"
                            : config.groups().size() == 1 ? "every quantized Linear" : "every other quantized Linear")
                    .append('\n');
        }
        if (vllmNotes.isEmpty()) s.append("vLLM         no known restriction for these schemes\n");
        for (String n : vllmNotes) s.append("vLLM         ").append(n).append('\n');
        return s.toString();
    }
}
