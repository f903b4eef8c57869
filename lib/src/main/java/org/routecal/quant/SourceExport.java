package org.routecal.quant;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.routecal.io.safetensors.DType;
import org.routecal.model.CheckpointLayout;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.model.PackedExperts;
import org.routecal.model.StoredForm;
import org.routecal.model.TensorSource;
import org.routecal.model.family.MoeFamily;
import org.routecal.quant.ct.CompressedTensorsWriter;

/**
 * The source tensors a quantized checkpoint does not copy byte for byte, and what it writes in their place (the
 * writer copies every other source tensor as it is):
 * <ul>
 *   <li>a packed family's 3-D experts (GPT-OSS, Llama 4) are written per expert under the table's export names, which
 *       compressed-tensors quantizes and vLLM's loaders read ({@code experts.{e}.gate_proj / up_proj / down_proj}):
 *       the quantized ones by the writer, any left unquantized (ignored) as plain Linear weights, and every expert's
 *       biases as {@code .bias}; the packed tensors (and their MXFP4 blocks and scales) are not copied;</li>
 *   <li>a tensor stored encoded (FP8 blocks with weight_scale_inv, MXFP4) is never copied as stored: the new
 *       quantization_config replaces the source's, so a module quantized here is the writer's, and anything else is
 *       written decoded in the model's dtype.</li>
 * </ul>
 */
final class SourceExport {
    private SourceExport() {}

    static void apply(MoeModel model, Set<String> quantized, CompressedTensorsWriter writer, DType dtype) {
        ModelConfig c = model.config();
        TensorSource src = model.weights().source();
        MoeFamily f = c.family();
        Set<String> handled = new HashSet<>();
        if (f.experts().packed3d() && !CheckpointLayout.expertsExported(c, src)) {
            MoeFamily.Tensors t = f.tensors();
            long h = c.hiddenSize(), inter = c.expertIntermediateSize();
            for (int l = 0; l < c.layerCount(); l++) {
                if (!c.isMoeLayer(l)) continue;
                List<String> packed = f.experts().bias()
                        ? List.of(t.expertGateUp(), t.expertDown(), t.expertGateUpBias(), t.expertDownBias())
                        : List.of(t.expertGateUp(), t.expertDown());
                for (String template : packed) {
                    String n = MoeFamily.name(template, l, 0);
                    skip(src, n, writer);
                    handled.add(n);
                }
                PackedExperts experts = PackedExperts.of(c, src, l);
                for (int e = 0; e < c.expertCount(); e++) {
                    for (PackedExperts.Projection p : PackedExperts.Projection.values()) {
                        String template = switch (p) {
                            case GATE -> t.exportExpertGate();
                            case UP -> t.exportExpertUp();
                            case DOWN -> t.exportExpertDown();
                        };
                        String module = MoeFamily.name(template, l, e);
                        long out = p == PackedExperts.Projection.DOWN ? h : inter, in = p == PackedExperts.Projection.DOWN ? inter : h;
                        if (!quantized.contains(module)) writer.addTensor(module + ".weight", dtype, new long[]{out, in}, experts.weight(e, p));
                        if (f.experts().bias()) writer.addTensor(module + ".bias", dtype, new long[]{out}, experts.bias(e, p));
                    }
                }
            }
        }
        for (String n : src.names()) {
            if (handled.contains(n) || src.storedForm(n).encoding() == StoredForm.Encoding.PLAIN) continue;
            skip(src, n, writer);
            boolean quantizedHere = n.endsWith(".weight") && quantized.contains(n.substring(0, n.length() - ".weight".length()));
            if (!quantizedHere) writer.addTensor(n, dtype, src.shape(n), src.readFloat(n));
        }
    }

    private static void skip(TensorSource src, String name, CompressedTensorsWriter writer) {
        for (String part : src.storedForm(name).parts().values()) writer.skipSource(part);
    }
}
