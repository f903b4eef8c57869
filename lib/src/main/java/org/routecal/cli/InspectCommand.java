package org.routecal.cli;

import org.routecal.session.StageCommand;
import org.routecal.model.ModelSummary;
import org.routecal.pipeline.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code routecal inspect --model DIR}: what a checkpoint is and what running it costs. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Family, layers, experts, top-k, shared experts, parameters (total and active), dtypes and forward-pass memory of a checkpoint.")
public final class InspectCommand implements StageCommand {
    @Option(names = "--model", required = true, description = "HF model directory (config.json + safetensors)")
    Path model;

    @Option(names = "--tokens", defaultValue = "2048", description = "tokens per forward batch for the memory estimate (default ${DEFAULT-VALUE})")
    int tokens;

    @Override
    public Object execute(Progress progress) throws Exception {
        // a quantized checkpoint: its schemes and what vLLM can serve of it, after the model summary
        if (org.routecal.quant.ct.CompressedTensorsReader.isCompressedTensors(model)) return org.routecal.quant.QuantizedSummary.of(model, tokens);
        // described families the forward pass does not run yet are summarised too, with what they lack
        return ModelSummary.of(model, tokens);
    }
}
