package org.routecal.serve;

import org.routecal.RoutecalException;
import org.routecal.cli.StageCommand;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.tokenize.TextCodec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** {@code routecal serve}: an OpenAI-compatible server for a model, until SIGTERM/SIGINT. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "OpenAI-compatible HTTP server (/v1/models, /v1/completions with echo+logprobs, /v1/chat/completions with streaming, "
                + "/tokenize) for lm-eval's local-completions and for the synth tests.")
public final class ServeCommand implements StageCommand {
    @Option(names = "--model", required = true, description = "HF model directory") Path model;
    @Option(names = "--quantized", description = "our compressed-tensors checkpoint (served dequantized), or a float checkpoint whose tensors replace the model's") Path quantized;
    @Option(names = "--tokenizer", defaultValue = "auto", description = "auto or byte (default ${DEFAULT-VALUE})") String tokenizer;
    @Option(names = "--host", defaultValue = "127.0.0.1") String host;
    @Option(names = "--port", defaultValue = "8000") int port;
    @Option(names = "--served-model-name", description = "model id reported by /v1/models (default: the directory name)") String name;
    @Option(names = "--max-concurrent", defaultValue = "1", description = "generations at once (default ${DEFAULT-VALUE})") int maxConcurrent;
    @Option(names = "--max-queue", defaultValue = "16", description = "requests waiting beyond that before 429 (default ${DEFAULT-VALUE})") int maxQueue;

    @Override public Object execute(Progress progress) throws Exception {
        try (MoeModel m = load(model, quantized)) {
            String id = name != null ? name : model.toAbsolutePath().normalize().getFileName().toString();
            TextCodec codec = TextCodec.load(model, tokenizer);
            OpenAiServer server = OpenAiServer.start(new ServedModel(id, m, codec), host, port, maxConcurrent, maxQueue);
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                server.stop(5);
                stopped.countDown();
            }, "serve-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            progress.message("serving " + id + " at " + server.baseUrl() + " (Ctrl-C to stop)");
            stopped.await();
            codec.close();
            return "serve: stopped";
        }
    }

    /** The model to serve: {@code model}, or the quantized checkpoint dequantized (tokenizer always from {@code model}). */
    public static MoeModel load(Path model, Path quantized) {
        if (quantized == null) return MoeModel.load(model);
        if (org.routecal.quant.ct.CompressedTensorsReader.isCompressedTensors(quantized)) {
            // dequantized tensors are cached up to a quarter of the heap; the rest is re-read per layer
            return new MoeModel(quantized, org.routecal.model.ModelConfig.load(quantized),
                    org.routecal.quant.ct.CompressedTensorsReader.open(quantized), org.routecal.compute.cpu.Backends.select(),
                    Runtime.getRuntime().maxMemory() / 4);
        }
        MoeModel m = MoeModel.load(model);
        overrideFrom(m, quantized);
        return m;
    }

    /** Loads every float tensor of {@code dir} over the model's weights; packed quantized tensors need the quant reader. */
    static void overrideFrom(MoeModel m, Path dir) {
        try (SafetensorsCheckpoint q = SafetensorsCheckpoint.open(dir)) {
            int n = 0;
            for (String t : q.names()) {
                if (t.endsWith("weight_packed") || t.endsWith("weight_scale") || t.endsWith("weight_zero_point")) {
                    throw new RoutecalException(dir + ": tensor " + t + " is packed compressed-tensors data; dequantize it first "
                            + "(this build's serve reads only float checkpoints)");
                }
                if (m.weights().contains(t)) {
                    m.overrideWeight(t, q.readFloat(t));
                    n++;
                }
            }
            if (n == 0) throw new RoutecalException(dir + ": no tensor name matches the model's weights");
        }
    }
}
