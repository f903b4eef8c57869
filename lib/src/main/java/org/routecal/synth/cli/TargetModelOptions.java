package org.routecal.synth.cli;

import org.routecal.model.MoeModel;
import org.routecal.synth.ModelTargetModel;
import org.routecal.tokenize.TextCodec;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** picocli mixin: the target model whose router decides acceptance (its tokenizer is the corpus mixin's {@code --tokenizer}). */
public final class TargetModelOptions {
    @Option(names = "--model", required = true, description = "target MoE model directory (config.json + safetensors)")
    Path model;

    @Option(names = "--route-window", defaultValue = "2048", description = "texts are routed in windows of this many tokens (default ${DEFAULT-VALUE})")
    int routeWindow;

    /** The model directory. */
    public Path dir() { return model; }

    /** {@code --route-window}. */
    public int routeWindow() { return routeWindow; }

    /** {@code --device} and {@code --precision}. */
    public org.routecal.compute.devices.DeviceOptions device() { return device; }

    @picocli.CommandLine.Mixin
    org.routecal.compute.devices.DeviceOptions device = new org.routecal.compute.devices.DeviceOptions();

    /** The model, loaded once per session on the session's device (the session closes it). */
    public MoeModel load(org.routecal.session.Session session) { return session.model(model, device); }

    public ModelTargetModel target(MoeModel m, TextCodec codec) { return new ModelTargetModel(m, codec, routeWindow); }
}
