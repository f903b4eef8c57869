package org.routecal.quant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.routecal.RoutecalException;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.Activations;
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
    public record Result(Path out, int quantized, int ignored, int fallbacks, int fallbacksToAll, int fallbacksToRtn,
                         int choleskyFailures, int tokens, List<String> warnings, double seconds) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("quantized %d modules (%d left unquantized) on %d calibration tokens in %.1f s%n", quantized, ignored, tokens, seconds));
            sb.append(String.format("fallbacks: %d experts below --min-tokens used all-token statistics, %d were rounded (RTN), "
                    + "%d Cholesky failures were rounded%n", fallbacksToAll, fallbacksToRtn, choleskyFailures));
            for (String w : warnings) sb.append("warning: ").append(w).append('\n');
            sb.append("checkpoint: ").append(out).append(" (quant_report.parquet, manifest.json)");
            return sb.toString();
        }
    }


    /** Tokens per forward batch of the calibration pass (bounds one batch's temporary activations). */
    static final int BATCH_TOKENS = 4096;

    /**
     * Quantizes {@code model} (loaded from {@code modelDir}) calibrated on {@code sequences} (token ids) and writes a
     * compressed-tensors checkpoint to {@code out}. {@code cancel} runs between layers and throws to stop.
     */
    public static Result run(MoeModel model, List<int[]> sequences, QuantizeOptions o, Path out, Map<String, Object> inputs,
                             Progress progress, Runnable cancel) {
        long start = System.nanoTime();
        Path modelDir = model.dir();
        if (sequences.isEmpty()) throw new RoutecalException("quantize: the calibration corpus has no samples");
        List<String> warnings = new ArrayList<>();
        List<Object[]> report = new ArrayList<>();
        int tokens = sequences.stream().mapToInt(s -> s.length).sum();
        Map<String, Double> timings = new LinkedHashMap<>();
        try (SafetensorsCheckpoint source = SafetensorsCheckpoint.open(modelDir)) {
            ModelConfig config = model.config();
            ScaleDType dtype = modelDtype(source, config);
            QuantScheme scheme = org.routecal.quant.scheme.QuantSchemes.parse(o, dtype);
            List<String> all = LinearModules.all(config, source::contains);
            IgnoreRules rules = IgnoreRules.of(o.ignore() != null ? o.ignore() : IgnoreRules.familyDefaults(config.family()));
            for (String r : rules.unmatched(all)) warnings.add("ignore rule \"" + r + "\" matches no Linear module");
            warnings.forEach(progress::message);
            for (String m : all) {
                // model.weights() also knows a packed family's per-expert export names (slices of its 3-D tensors)
                if (!rules.ignores(m) && model.weights().contains(m + ".weight")) {
                    long[] shape = model.weights().shape(m + ".weight");
                    scheme.validate(m, (int) shape[0], (int) shape[1]);
                }
            }
            MemoryEstimate.check(config, tokens, o, model.backend());
            Set<String> quantized = new LinkedHashSet<>();
            LayerQuantizer.FallbackCounts fallbacks = new LayerQuantizer.FallbackCounts();
            double tForward = 0, tSolve = 0;
            try (CompressedTensorsWriter writer = CompressedTensorsWriter.create(out, o.overwrite())) {
                List<List<int[]>> batches = MoeModel.batches(sequences, BATCH_TOKENS);
                List<Integer> batchTokens = batches.stream().map(b -> b.stream().mapToInt(s -> s.length).sum()).toList();
                List<Activations> acts = new ArrayList<>();
                try {
                    for (List<int[]> b : batches) acts.add(model.embed(b, acts.size()));
                    progress.start("quantize layers", config.layerCount());
                    for (int layer = 0; layer < config.layerCount(); layer++) {
                        cancel.run();
                        model.weights().beginLayer();
                        LayerQuantizer lq = new LayerQuantizer(model, layer, scheme, o, rules, report);
                        long f0 = System.nanoTime();
                        try (LayerCalibration cal = new LayerCalibration(layer, model.backend(), lq.hessianKeys(), batchTokens)) {
                            for (Activations act : acts) {
                                // sequential: calibrate on a copy, then re-run the layer on the quantized weights below
                                try (Activations calib = o.sequential() ? copy(model, act) : null) {
                                    model.layer(layer, calib != null ? calib : act, cal);
                                }
                            }
                            long s0 = System.nanoTime();
                            tForward += (s0 - f0) / 1e9;
                            lq.quantize(cal, (module, q) -> {
                                writer.addQuantized(module, q);
                                quantized.add(module);
                            });
                            tSolve += (System.nanoTime() - s0) / 1e9;
                        }
                        fallbacks.add(lq.fallbacks);
                        warnings.addAll(lq.warnings);
                        long r0 = System.nanoTime();
                        if (o.sequential()) for (Activations act : acts) model.layer(layer, act, ForwardTaps.NONE);
                        tForward += (System.nanoTime() - r0) / 1e9;
                        // quantized layers never run again: drop their dequantized copies so memory stays at one layer
                        model.weights().clearOverrides();
                        progress.advance(1);
                    }
                } finally {
                    acts.forEach(Activations::close);
                }
                String head = LinearModules.lmHead(config);
                if (head != null && source.contains(head + ".weight") && !rules.ignores(head)) {
                    // lm_head has no Hessian tap after the final norm: rounded, and said so
                    long[] s = source.info(head + ".weight").shape();
                    QuantizedWeight q = Rtn.quantize(scheme, model.weights().source().readFloat(head + ".weight"), (int) s[0], (int) s[1]);
                    writer.addQuantized(head, q);
                    quantized.add(head);
                    warnings.add(head + " quantized with RTN (no calibration statistics are collected after the final norm)");
                }
                progress.finish();
                List<String> ignoreList = new ArrayList<>();
                for (String m : all) if (!quantized.contains(m)) ignoreList.add(m);
                long w0 = System.nanoTime();
                QuantReport.write(writer.stagingDir().resolve("quant_report.parquet"), report);
                timings.put("forward_seconds", tForward);
                timings.put("solve_seconds", tSolve);
                timings.put("total_seconds", (System.nanoTime() - start) / 1e9);
                writeManifest(writer.stagingDir().resolve("manifest.json"), model, o, scheme, inputs, sequences.size(), tokens,
                        quantized.size(), ignoreList.size(), fallbacks, warnings, timings);
                SourceExport.apply(model, quantized, writer, org.routecal.io.safetensors.DType.valueOf(dtype.name()));
                writer.commit(modelDir, source, new CtQuantConfig(scheme, o.gptq() ? o.gptqArgs().actOrder() : ActOrder.NONE, ignoreList));
                timings.put("write_seconds", (System.nanoTime() - w0) / 1e9);
                return new Result(out, quantized.size(), ignoreList.size(), fallbacks.total(), fallbacks.minTokenAll,
                        fallbacks.minTokenRtn, fallbacks.choleskyRtn, tokens, warnings, (System.nanoTime() - start) / 1e9);
            }
        } catch (RoutecalException e) {
            throw e;
        } catch (Exception e) {
            throw new RoutecalException("quantize " + modelDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The dtype of the model's Linear weights (scales are stored in it): the first of layer 0's Linear weights stored
     * plainly, else the embedding's. Not q_proj by name: MLA with a q LoRA has q_a_proj, a packed family's experts have
     * no per-expert tensor, and an FP8 or MXFP4 source stores its quantized weights as codes (its embedding keeps the
     * model dtype).
     */
    static ScaleDType modelDtype(SafetensorsCheckpoint source, ModelConfig config) {
        List<String> names = new ArrayList<>();
        for (LinearModules.Module m : LinearModules.ofLayer(config, 0)) names.add(m.module() + ".weight");
        names.add(config.family().tensors().embed());
        for (String name : names) {
            if (!source.contains(name)) continue;
            switch (source.info(name).dtype()) {
                case F16: return ScaleDType.F16;
                case F32: return ScaleDType.F32;
                case BF16: return ScaleDType.BF16;
                default: break; // F8_E4M3 codes and the like: look further
            }
        }
        return ScaleDType.BF16;
    }

    /** A copy of {@code a}'s residual stream (same sequences): the calibration pass runs on it. */
    static Activations copy(MoeModel model, Activations a) {
        Activations c = model.like(a);
        model.backend().copyRows(a.hidden, 0, c.hidden, 0, a.hidden.rows());
        return c;
    }

    private static void writeManifest(Path file, MoeModel model, QuantizeOptions o, QuantScheme scheme, Map<String, Object> inputs,
                                      int samples, int tokens, int quantized, int ignored, LayerQuantizer.FallbackCounts fallbacks,
                                      List<String> warnings, Map<String, Double> timings) throws IOException {
        Path modelDir = model.dir();
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
        m.put("fallbacks", fallbacks.total());
        ObjectNode fb = m.putObject("fallback_detail");
        fb.put("min_tokens_to_all", fallbacks.minTokenAll);
        fb.put("min_tokens_to_rtn", fallbacks.minTokenRtn);
        fb.put("cholesky_to_rtn", fallbacks.choleskyRtn);
        m.set("device", json.valueToTree(model.backend().device().toManifest()));
        m.put("precision", model.backend().precision().id());
        ArrayNode w = m.putArray("warnings");
        warnings.forEach(w::add);
        m.set("timings", json.valueToTree(timings));
        m.putArray("outputs").add("config.json").add("model.safetensors or model-*.safetensors + index").add("quant_report.parquet");
        m.put("java", System.getProperty("java.version"));
        Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(m));
    }
}
