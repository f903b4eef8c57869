package org.routecal.serve;

import org.routecal.RoutecalException;
import org.routecal.session.StageCommand;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.tokenize.TextCodec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * {@code routecal serve}: an OpenAI-compatible server for a model, until SIGTERM/SIGINT (then a graceful drain) or,
 * as a notebook magic, until the cell is interrupted.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "OpenAI-compatible HTTP server (/v1/models, /v1/completions with echo+logprobs, /v1/chat/completions with streaming, "
                + "/tokenize) for lm-eval's local-completions and for the synth tests. Listens on 127.0.0.1 unless --host says "
                + "otherwise; see SECURITY.md before exposing it.")
public final class ServeCommand implements StageCommand {
    @Option(names = "--model", required = true, description = "HF model directory") Path model;
    @Option(names = "--quantized", description = "our compressed-tensors checkpoint (served dequantized), or a float checkpoint whose tensors replace the model's") Path quantized;
    @Option(names = "--tokenizer", defaultValue = "auto", description = "auto or byte (default ${DEFAULT-VALUE})") String tokenizer;
    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "address to listen on (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 exposes it to the network)") String host;
    @Option(names = "--port", defaultValue = "8000") int port;
    @Option(names = "--served-model-name", description = "model id reported by /v1/models and required in requests' 'model' (default: the directory name)") String name;
    @Option(names = "--api-key", defaultValue = "${env:ROUTECAL_API_KEY}",
            description = "require 'Authorization: Bearer KEY' on every endpoint but /health (default: $ROUTECAL_API_KEY, "
                    + "which keeps the key out of the process list; none: no key)") String apiKey;
    @Option(names = "--max-concurrent", defaultValue = "1", description = "generations at once (default ${DEFAULT-VALUE})") int maxConcurrent;
    @Option(names = "--max-queue", defaultValue = "16", description = "requests waiting beyond that before 429 (default ${DEFAULT-VALUE})") int maxQueue;
    @Option(names = "--max-body-mb", defaultValue = "8", description = "largest request body in MiB; larger ones get 413 (default ${DEFAULT-VALUE})") int maxBodyMb;
    @Option(names = "--drain-seconds", defaultValue = "30",
            description = "on SIGTERM/SIGINT: how long running requests may finish before they are cancelled (default ${DEFAULT-VALUE})") int drainSeconds;

    @picocli.CommandLine.Mixin
    org.routecal.compute.devices.DeviceOptions device = new org.routecal.compute.devices.DeviceOptions();

    @Override public Object execute(org.routecal.session.Session session) throws Exception {
        Progress progress = session.progress();
        if (drainSeconds < 0) throw new RoutecalException("--drain-seconds must be ≥ 0, got " + drainSeconds);
        if (maxBodyMb < 1 || maxBodyMb > 2047) throw new RoutecalException("--max-body-mb must be between 1 and 2047, got " + maxBodyMb);
        OpenAiServer.Options options = new OpenAiServer.Options(host, port, maxConcurrent, maxQueue, (long) maxBodyMb << 20,
                apiKey == null || apiKey.isEmpty() ? null : apiKey);
        try (Overlaid overlaid = load(session, device, model, quantized)) {
            MoeModel m = overlaid.model();
            String id = name != null ? name : model.toAbsolutePath().normalize().getFileName().toString();
            TextCodec codec = TextCodec.load(model, tokenizer);
            OpenAiServer server = OpenAiServer.start(new ServedModel(id, m, codec), options);
            CountDownLatch drained = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                // SIGTERM/SIGINT: the JVM keeps running the request threads while this hook drains them
                progress.message("serve: draining (up to " + drainSeconds + " s for running requests; new ones get 503)");
                int cancelled = server.drain(Duration.ofSeconds(drainSeconds));
                progress.message("serve: stopped" + (cancelled > 0 ? " (" + cancelled + " requests cancelled at the deadline)" : ""));
                drained.countDown();
            }, "serve-drain");
            Runtime.getRuntime().addShutdownHook(hook);
            progress.message("serving " + id + " at " + server.baseUrl() + " (Ctrl-C to stop)" + exposureWarning(options));
            try {
                drained.await();
            } finally {
                // a notebook interrupt ends the magic: stop now rather than leave a server on a closed model
                if (drained.getCount() > 0) {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook is already running
                    }
                    server.drain(Duration.ZERO);
                }
                codec.close();
            }
            return "serve: stopped";
        }
    }

    /** Said once at start-up when the server is reachable from other machines without a key. */
    private static String exposureWarning(OpenAiServer.Options o) {
        boolean loopback;
        try {
            loopback = java.net.InetAddress.getByName(o.host()).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            loopback = false;
        }
        return loopback || o.apiKey() != null ? ""
                : "\nwarning: listening on " + o.host() + " without --api-key: anyone who can reach this port can use the model";
    }

    /**
     * The model to serve: {@code model}, or the quantized checkpoint. A float checkpoint laid over {@code model}'s weights
     * gets a model instance of its own (closed with the {@code Overlaid}), so the session's copy of {@code model}, which
     * later magics use, keeps its own weights.
     */
    public static Overlaid load(org.routecal.session.Session session, org.routecal.compute.devices.DeviceOptions device, Path model, Path quantized) {
        if (quantized == null) return new Overlaid(session.model(model, device), false);
        if (org.routecal.quant.ct.CompressedTensorsReader.isCompressedTensors(quantized)) return new Overlaid(session.model(quantized, device), false);
        MoeModel m = MoeModel.load(model, session.backend(device, model));
        try {
            overrideFrom(m, quantized);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return new Overlaid(m, true);
    }

    /** A served model, and whether serve owns it (an overlaid copy) or the session does. */
    public record Overlaid(MoeModel model, boolean owned) implements AutoCloseable {
        @Override public void close() {
            if (owned) model.close();
        }
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
