package org.routecal.synth.cli;

import org.routecal.model.MoeModel;
import org.routecal.serve.Codecs;
import org.routecal.synth.ModelTargetModel;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** picocli mixin: the target model whose router decides acceptance. */
public final class TargetModelOptions {
    @Option(names = "--model", required = true, description = "target MoE model directory (config.json + safetensors)")
    Path model;

    @Option(names = "--tokenizer", defaultValue = "auto", description = "auto (the model's tokenizer.json) or byte (byte-vocabulary test models); default ${DEFAULT-VALUE}")
    String tokenizer;

    @Option(names = "--route-window", defaultValue = "2048", description = "texts are routed in windows of this many tokens (default ${DEFAULT-VALUE})")
    int routeWindow;

    @picocli.CommandLine.Mixin
    org.routecal.compute.DeviceOptions device = new org.routecal.compute.DeviceOptions();

    /** The model, loaded once per session on the session's device (the session closes it). */
    public MoeModel load(org.routecal.pipeline.Session session) { return session.model(model, device); }

    public ModelTargetModel target(MoeModel m) { return new ModelTargetModel(m, Codecs.load(model, tokenizer), routeWindow); }
}
