package org.routecal.cli;

import org.routecal.session.StageCommand;
import org.routecal.bench.ForwardBench;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;
import org.routecal.pipeline.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;

/** {@code routecal bench-forward}: the CPU forward-pass benchmark; writes a JSON results file. */
@Command(name = "bench-forward", mixinStandardHelpOptions = true,
        description = "Benchmark the CPU forward pass on a random Qwen3-MoE-shaped model (tokens/s, matmul GFLOP/s vs FMA peak).")
public final class BenchCommand implements StageCommand {
    @Option(names = "--hidden", defaultValue = "1024") int hidden;
    @Option(names = "--layers", defaultValue = "8") int layers;
    @Option(names = "--experts", defaultValue = "32") int experts;
    @Option(names = "--top-k", defaultValue = "4") int topK;
    @Option(names = "--moe-intermediate", defaultValue = "512") int moeIntermediate;
    @Option(names = "--heads", defaultValue = "16") int heads;
    @Option(names = "--kv-heads", defaultValue = "4") int kvHeads;
    @Option(names = "--head-dim", defaultValue = "64") int headDim;
    @Option(names = "--vocab", defaultValue = "32000") int vocab;
    @Option(names = "--seq", defaultValue = "512") int seq;
    @Option(names = "--batch", defaultValue = "1") int batch;
    @Option(names = "--repeats", defaultValue = "3") int repeats;
    @Option(names = "--precision", defaultValue = "fp32", description = "with --model: fp32 or bf16 (bf16 weights in bf16 panels,"
            + " activations rounded to bf16 at each product, as HF transformers' bf16 forward; default ${DEFAULT-VALUE})") String precision;
    @Option(names = "--warmup-seconds", defaultValue = "0", description = "with --model: untimed passes until this long has passed"
            + " (at least one), so the timed ones run JIT-compiled code (default ${DEFAULT-VALUE}: one pass)") double warmupSeconds;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--model", description = "time this checkpoint instead of a random model (with --tokens-file)") Path model;
    @Option(names = "--tokens-file", description = "token ids for --model: integers separated by whitespace or commas") Path tokensFile;
    @Option(names = "--out", defaultValue = "bench/results/forward.json", description = "results file (default ${DEFAULT-VALUE})") Path out;

    @Override
    public Object execute(Progress progress) throws Exception {
        progress.start("bench-forward", -1);
        Map<String, Object> r;
        if (model != null) {
            if (tokensFile == null) throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--model needs --tokens-file");
            int[] tokens = java.util.Arrays.stream(java.nio.file.Files.readString(tokensFile).trim().split("[\\s,\\[\\]]+"))
                    .filter(t -> !t.isEmpty()).mapToInt(Integer::parseInt).toArray();
            org.routecal.compute.Precision p = org.routecal.compute.Precision.parseOrAuto(precision);
            r = ForwardBench.runCheckpoint(model, tokens, repeats, warmupSeconds, p == null ? org.routecal.compute.Precision.FP32 : p);
        } else {
            r = ForwardBench.run(new ForwardBench.Settings(hidden, layers, experts, topK, moeIntermediate,
                    heads, kvHeads, headDim, vocab, seq, batch, repeats, seed));
        }
        progress.finish();
        String json = Json.PRETTY.writeValueAsString(r);
        AtomicFiles.writeString(out, json);
        return json + "\nwritten to " + out;
    }
}
