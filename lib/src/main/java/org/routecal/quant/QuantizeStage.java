package org.routecal.quant;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.routecal.RoutecalException;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.Activations;
import org.routecal.model.CalibrationMode;
import org.routecal.model.ForwardTaps;
import org.routecal.model.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Progress;
import org.routecal.quant.ct.CompressedTensorsWriter;
import org.routecal.quant.ct.CtQuantConfig;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.scheme.Fp8Scheme;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

/**
 * Stage 0 quantization. Lifecycle: prepare (load the model, resolve ignore rules, estimate memory and refuse early,
 * open the output) → per decoder layer (calibration pass collecting this layer's Hessians → GPTQ/RTN per module,
 * shared Hessians factorised once → quantized weights override the model → the layer re-run on them so layer L+1
 * is calibrated on quantized outputs) → finish (copy the rest, config.json, quant_report.parquet, manifest.json,
 * rename into place). Only one layer's Hessians exist at a time.
 */
public final class QuantizeStage {
    private QuantizeStage() {}

    /** The outcome, printed as the CLI summary. */
    public record Result(Path out, int quantized, int ignored, int fallbacks, int tokens, List<String> warnings, double seconds) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("quantized %d modules (%d left unquantized) on %d calibration tokens in %.1f s%n", quantized, ignored, tokens, seconds));
            sb.append("fallbacks (min-token or Cholesky): ").append(fallbacks).append('\n');
            for (String w : warnings) sb.append("warning: ").append(w).append('\n');
            sb.append("checkpoint: ").append(out).append(" (quant_report.parquet, manifest.json)");
            return sb.toString();
        }
    }

    /** Builds the grid for a model whose weights are stored as {@code modelDtype}. */
    public static QuantScheme scheme(QuantizeOptions o, ScaleDType modelDtype) {
        return switch (o.scheme()) {
            case "w4a16" -> new IntScheme(4, o.symmetric(), o.groupSize(), modelDtype);
            case "w8a16" -> new IntScheme(8, o.symmetric(), o.groupSize(), modelDtype);
            case "fp8" -> new Fp8Scheme(o.fp8PerTensor(), modelDtype);
            case "nvfp4" -> new Nvfp4Scheme(modelDtype);
            default -> throw new RoutecalException("unknown scheme '" + o.scheme() + "' (expected w4a16, w8a16, fp8 or nvfp4)");
        };
    }

    /**
     * Quantizes {@code modelDir} calibrated on {@code sequences} (token ids) and writes a compressed-tensors
     * checkpoint to {@code out}.
     */
    public static Result run(Path modelDir, List<int[]> sequences, QuantizeOptions o, Path out, Map<String, Object> inputs,
                             Progress progress) {
        long start = System.nanoTime();
        if (sequences.isEmpty()) throw new RoutecalException("quantize: the calibration corpus has no samples");
        List<String> warnings = new ArrayList<>();
        List<Object[]> report = new ArrayList<>();
        int tokens = sequences.stream().mapToInt(s -> s.length).sum();
        try (MoeModel model = MoeModel.load(modelDir); SafetensorsCheckpoint source = SafetensorsCheckpoint.open(modelDir)) {
            ModelConfig config = model.config();
            ScaleDType dtype = modelDtype(source, config);
            QuantScheme scheme = scheme(o, dtype);
            List<String> all = LinearModules.all(config, source::contains);
            IgnoreRules rules = IgnoreRules.of(o.ignore() != null ? o.ignore() : IgnoreRules.familyDefaults(config.family()));
            for (String r : rules.unmatched(all)) warnings.add("ignore rule \"" + r + "\" matches no Linear module");
            warnings.forEach(progress::message);
            for (String m : all) {
                if (!rules.ignores(m) && source.contains(m + ".weight")) {
                    long[] shape = source.info(m + ".weight").shape();
                    scheme.validate(m, (int) shape[0], (int) shape[1]);
                }
            }
            MemoryEstimate.check(config, tokens, o, scheme);
            Set<String> quantized = new LinkedHashSet<>();
            int fallbacks = 0;
            try (OutputDir dir = outputDir(out, o, modelDir, inputs); CompressedTensorsWriter writer = CompressedTensorsWriter.into(dir.path())) {
                Activations act = model.embed(sequences);
                progress.start("quantize layers", config.layerCount());
                for (int layer = 0; layer < config.layerCount(); layer++) {
                    LayerQuantizer lq = new LayerQuantizer(model, layer, scheme, o, rules, report);
                    Activations calib = o.sequential() ? copy(model, sequences, act) : act;
                    model.layer(layer, calib, lq.collector(), HessianCollector.needsAllTokens(o.moeMode(), o.fallbackToAll()) && o.gptq()
                            ? CalibrationMode.ALL : CalibrationMode.ROUTED);
                    for (Map.Entry<String, QuantizedWeight> e : lq.quantize().entrySet()) {
                        writer.addQuantized(e.getKey(), e.getValue());
                        model.overrideWeight(e.getKey() + ".weight", e.getValue().dequantize());
                        quantized.add(e.getKey());
                    }
                    fallbacks += lq.fallbacks;
                    warnings.addAll(lq.warnings);
                    if (o.sequential()) model.layer(layer, act, ForwardTaps.NONE, CalibrationMode.ROUTED);
                    // quantized layers never run again: drop their dequantized copies so memory stays at one layer
                    model.weights().clearOverrides();
                    progress.advance(1);
                }
                String head = LinearModules.lmHead(config);
                if (head != null && source.contains(head + ".weight") && !rules.ignores(head)) {
                    // lm_head has no Hessian tap after the final norm: rounded, and said so
                    long[] s = source.info(head + ".weight").shape();
                    QuantizedWeight q = Rtn.quantize(scheme, source.readFloat(head + ".weight"), (int) s[0], (int) s[1]);
                    writer.addQuantized(head, q);
                    quantized.add(head);
                    warnings.add(head + " quantized with RTN (no calibration statistics are collected after the final norm)");
                }
                progress.finish();
                List<String> ignoreList = new ArrayList<>();
                for (String m : all) if (!quantized.contains(m)) ignoreList.add(m);
                QuantReport.write(dir.path().resolve("quant_report.parquet"), report);
                writer.commit(modelDir, source, new CtQuantConfig(scheme, o.gptq() ? o.gptqArgs().actOrder() : ActOrder.NONE, ignoreList));
                dir.writeManifest(manifest(dir.path(), modelDir, o, scheme, inputs, sequences.size(), tokens,
                        quantized.size(), ignoreList.size(), fallbacks, warnings, (System.nanoTime() - start) / 1e9));
                dir.commit();
                return new Result(out, quantized.size(), ignoreList.size(), fallbacks, tokens, warnings, (System.nanoTime() - start) / 1e9);
            }
        } catch (RoutecalException e) {
            throw e;
        } catch (Exception e) {
            throw new RoutecalException("quantize " + modelDir + ": " + e.getMessage(), e);
        }
    }

    /** The dtype of the model's Linear weights (scales are stored in it). */
    static ScaleDType modelDtype(SafetensorsCheckpoint source, ModelConfig config) {
        String q = config.family().tensors().qProj();
        String name = org.routecal.model.family.MoeFamily.name(q, 0, 0) + ".weight";
        return switch (source.info(name).dtype()) {
            case F16 -> ScaleDType.F16;
            case F32 -> ScaleDType.F32;
            default -> ScaleDType.BF16;
        };
    }

    /** A copy of {@code a} (same sequences): the calibration pass runs on it, the quantized re-run on {@code a}. */
    static Activations copy(MoeModel model, List<int[]> sequences, Activations a) {
        Activations c = model.embed(sequences); // same geometry and positions; hidden states overwritten below
        System.arraycopy(a.hidden, 0, c.hidden, 0, a.hidden.length);
        return c;
    }

    /**
     * The checkpoint directory: built in a hidden sibling and renamed onto {@code out} when finished; refused when it
     * overlaps the model or the corpus; an existing {@code out} is replaced only with --overwrite and only if it is an
     * earlier quantize output (see {@link OutputDir}).
     */
    private static OutputDir outputDir(Path out, QuantizeOptions o, Path modelDir, Map<String, Object> inputs) {
        OutputDir.Builder b = OutputDir.of("quantize", out).staged(true).overwrite(o.overwrite()).input("--model", modelDir);
        inputs.forEach((k, v) -> { if (v instanceof Path p) b.input("--" + k, p); });
        return b.open();
    }

    /** manifest.json; {@code inputs} are the command's entries (the corpus file, its options and loader summary). */
    private static Manifest manifest(Path dir, Path modelDir, QuantizeOptions o, QuantScheme scheme, Map<String, Object> inputs,
                                     int samples, int tokens, int quantized, int ignored, int fallbacks, List<String> warnings,
                                     double seconds) {
        Manifest.Builder m = Manifest.builder("quantize").model("model", modelDir).add(inputs);
        m.parameter("scheme", scheme.name()).parameter("scheme_detail", scheme.toString())
                .parameter("algorithm", o.gptq() ? "gptq" : "rtn").parameter("block_size", o.gptqArgs().blockSize())
                .parameter("dampening_frac", o.gptqArgs().dampeningFrac())
                .parameter("act_order", o.gptqArgs().actOrder().name().toLowerCase())
                .parameter("moe_mode", o.moeMode().id()).parameter("hybrid_lambda", o.hybridLambda())
                .parameter("min_tokens", o.minTokens()).parameter("min_token_fallback", o.fallbackToAll() ? "all" : "rtn")
                .parameter("sequential", o.sequential()).parameter("ignore", o.ignore());
        m.result("samples", samples).result("tokens", tokens).result("modules_quantized", quantized)
                .result("modules_ignored", ignored).result("fallbacks", fallbacks).result("warnings", warnings);
        m.timing("total", seconds);
        return m.outputsIn(dir).build();
    }
}
