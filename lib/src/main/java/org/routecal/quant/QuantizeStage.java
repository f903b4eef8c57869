package org.routecal.quant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
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
            try (CompressedTensorsWriter writer = CompressedTensorsWriter.create(out, o.overwrite())) {
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
                QuantReport.write(writer.stagingDir().resolve("quant_report.parquet"), report);
                writeManifest(writer.stagingDir().resolve("manifest.json"), modelDir, o, scheme, inputs, sequences.size(), tokens,
                        quantized.size(), ignoreList.size(), fallbacks, warnings, (System.nanoTime() - start) / 1e9);
                writer.commit(modelDir, source, new CtQuantConfig(scheme, o.gptq() ? o.gptqArgs().actOrder() : ActOrder.NONE, ignoreList));
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

    private static void writeManifest(Path file, Path modelDir, QuantizeOptions o, QuantScheme scheme, Map<String, Object> inputs,
                                      int samples, int tokens, int quantized, int ignored, int fallbacks, List<String> warnings,
                                      double seconds) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode m = json.createObjectNode();
        m.put("format", "routecal.quantize-manifest");
        m.put("format_version", 1);
        m.put("model", modelDir.toAbsolutePath().toString());
        m.set("inputs", json.valueToTree(inputs));
        ObjectNode p = m.putObject("parameters");
        p.put("scheme", scheme.name());
        p.put("scheme_detail", scheme.toString());
        p.put("algorithm", o.gptq() ? "gptq" : "rtn");
        p.put("block_size", o.gptqArgs().blockSize());
        p.put("dampening_frac", o.gptqArgs().dampeningFrac());
        p.put("act_order", o.gptqArgs().actOrder().name().toLowerCase());
        p.put("moe_mode", o.moeMode().id());
        p.put("hybrid_lambda", o.hybridLambda());
        p.put("min_tokens", o.minTokens());
        p.put("min_token_fallback", o.fallbackToAll() ? "all" : "rtn");
        p.put("sequential", o.sequential());
        p.set("ignore", json.valueToTree(o.ignore()));
        m.put("samples", samples);
        m.put("tokens", tokens);
        m.put("modules_quantized", quantized);
        m.put("modules_ignored", ignored);
        m.put("fallbacks", fallbacks);
        ArrayNode w = m.putArray("warnings");
        warnings.forEach(w::add);
        m.putObject("timings").put("total_seconds", seconds);
        m.putArray("outputs").add("config.json").add("model.safetensors or model-*.safetensors + index").add("quant_report.parquet");
        m.put("java", System.getProperty("java.version"));
        Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(m));
    }
}
