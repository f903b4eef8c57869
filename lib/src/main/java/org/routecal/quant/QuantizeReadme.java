package org.routecal.quant;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.routecal.io.AtomicFiles;
import org.routecal.model.MoeModel;
import org.routecal.quant.ct.CtQuantConfig;
import org.routecal.quant.scheme.QuantScheme;

/**
 * The README.md written next to a quantized checkpoint's config.json: what was done (scheme or mixed widths,
 * algorithm, MoE calibration mode, AWQ, bit allocation), what vLLM can and cannot serve of it
 * ({@link org.routecal.quant.ct.VllmSupport}), and the side files. {@code inspect} shows the same vLLM notes.
 */
final class QuantizeReadme {
    private QuantizeReadme() {}

    static void write(Path dir, MoeModel model, QuantizeOptions o, CtQuantConfig config, List<String> vllmNotes, List<String> details) {
        StringBuilder b = new StringBuilder();
        b.append("# Quantized with routecal\n\n");
        b.append("- Source model: `").append(model.dir()).append("` (").append(model.family().name()).append(", model_type ")
                .append(model.config().modelType()).append(")\n");
        b.append("- Format: compressed-tensors `").append(config.formatId()).append("` (config.json `quantization_config`)\n");
        if (config.groups().size() == 1) {
            b.append("- Scheme: ").append(describe(config.scheme())).append(" for every quantized Linear module\n");
        } else {
            b.append("- Schemes (mixed precision; a module takes its most specific group):\n");
            for (CtQuantConfig.Group g : config.groups()) {
                b.append("  - ").append(describe(g.scheme())).append(": ")
                        .append(g.targets().equals(List.of(CtQuantConfig.LINEAR)) ? "every other quantized Linear module"
                                : g.targets().size() + " target pattern(s)").append('\n');
            }
        }
        b.append("- Algorithm: ").append(o.gptq() ? String.format(Locale.ROOT, "GPTQ (block %d, dampening %s, act-order %s)",
                o.gptqArgs().blockSize(), o.gptqArgs().dampeningFrac(), o.gptqArgs().actOrder().name().toLowerCase(Locale.ROOT)) : "RTN")
                .append(o.awq() == null ? "" : String.format(Locale.ROOT, ", after AWQ (grid %d, duo scaling %s; scales folded into the "
                        + "norms and the layers before)", o.awq().gridSize(), o.awq().duoScaling().name().toLowerCase(Locale.ROOT))).append('\n');
        b.append("- MoE calibration: ").append(o.moeMode().id())
                .append(o.moeMode() == MoeMode.HYBRID ? " (λ " + o.hybridLambda() + ")" : "")
                .append("; experts under ").append(o.minTokens()).append(" routed tokens fall back to ")
                .append(o.fallbackToAll() ? "all-token statistics" : "RTN").append('\n');
        b.append("- Left unquantized: ").append(config.ignore().size()).append(" Linear modules (listed in `quantization_config.ignore`)\n");
        for (String d : details) b.append("- ").append(d).append('\n');
        b.append("\n## Serving with vLLM\n\n");
        if (vllmNotes.isEmpty()) {
            b.append("No known restriction: vLLM's compressed-tensors kernels serve this scheme (`vllm serve <this directory>`).\n");
        } else {
            for (String n : vllmNotes) b.append("- ").append(n).append('\n');
        }
        b.append("\nRe-check against the vLLM version you serve with. routecal's own reader (`evaluate`, `serve`) loads every "
                + "scheme it writes.\n");
        b.append("\n## Files\n\n");
        b.append("- `config.json`, `model*.safetensors`, tokenizer files: the checkpoint\n");
        b.append("- `quant_report.parquet`: one row per quantized module (algorithm, Hessian source, fallback, error)\n");
        if (o.awq() != null) b.append("- `awq_report.parquet`: one row per AWQ mapping (chosen α, losses)\n");
        if (o.allocation() != null) {
            b.append("- `bit_allocation.parquet`, `bit_allocation.json`, `bit_allocation.html`: each expert's width, usage and "
                    + "sensitivity, against uniform widths\n");
        }
        b.append("- `manifest.json`: inputs, parameters, results and timings of the run\n");
        AtomicFiles.writeString(dir.resolve("README.md"), b.toString());
    }

    private static String describe(QuantScheme s) {
        return QuantizedSummary.describe(s);
    }
}
