package org.routecal.quant;

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
import org.routecal.model.family.ModelConfig;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.OutputDir;
import org.routecal.compute.devices.DeviceOptions;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.corpus.Sample;
import org.routecal.pipeline.Progress;
import org.routecal.session.Session;
import org.routecal.tokenize.TextCodec;
import org.routecal.quant.ct.CompressedTensorsWriter;
import org.routecal.quant.ct.CtQuantConfig;
import org.routecal.quant.ct.VllmSupport;
import org.routecal.io.safetensors.DType;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.parallel.ModelReplicas;
import org.routecal.quant.scheme.Fp8Scheme;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantizedWeight;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

/**
 * Stage 0 quantization. Lifecycle: prepare (load the model, resolve ignore rules, estimate memory and refuse early,
 * open the output; with a bit budget, a measuring pass over every layer and the allocation, see
 * {@link ExpertAllocation}) → per decoder layer (with --awq, {@link AwqLayer}: a statistics pass, the scale search and
 * the fold into the model → calibration pass collecting this layer's Hessians → GPTQ/RTN per module, shared Hessians
 * factorised once → quantized weights override the model → the layer re-run on them so layer L+1 is calibrated on
 * quantized outputs) → finish (copy the rest, config.json, README.md, quant_report.parquet, awq_report.parquet,
 * bit_allocation.*, manifest.json, rename into place). Only one layer's Hessians exist at a time.
 */
public final class QuantizeStage {
    private QuantizeStage() {}

    /**
     * The outcome, printed as the CLI summary.
     *
     * @param details    what AWQ and the bit allocation chose, one line each (empty without them)
     * @param vllmNotes  what vLLM cannot serve of this checkpoint ({@link VllmSupport}), also in its README.md
     */
    public record Result(Path out, int quantized, int ignored, int fallbacks, int fallbacksToAll, int fallbacksToRtn,
                         int choleskyFailures, int tokens, List<String> warnings, double seconds, List<String> details,
                         List<String> vllmNotes) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("quantized %d modules (%d left unquantized) on %d calibration tokens in %.1f s%n", quantized, ignored, tokens, seconds));
            sb.append(String.format("fallbacks: %d experts below --min-tokens used all-token statistics, %d were rounded (RTN), "
                    + "%d Cholesky failures were rounded%n", fallbacksToAll, fallbacksToRtn, choleskyFailures));
            for (String d : details) sb.append(d).append('\n');
            for (String n : vllmNotes) sb.append("vLLM: ").append(n).append('\n');
            for (String w : warnings) sb.append("warning: ").append(w).append('\n');
            sb.append("checkpoint: ").append(out).append(" (README.md, quant_report.parquet, manifest.json)");
            return sb.toString();
        }
    }


    /** What a quantize run needs, as the CLI, the magics and the demo give it (tokenizer: auto or byte). */
    public record Request(Path model, CorpusOptions corpus, String tokenizer, Path out, QuantizeOptions options, DeviceOptions device) {}

    /** Loads the calibration corpus with the model's codec and quantizes the session's model. */
    public static Result run(Request r, Session session) {
        Corpus.Loaded loaded;
        try (TextCodec codec = TextCodec.load(r.model(), r.tokenizer())) {
            loaded = Corpus.read(r.corpus(), codec);
        }
        session.progress().message("corpus: " + loaded);
        MoeModel m = session.model(r.model(), r.device());
        try (ModelReplicas replicas = ModelReplicas.open(m, r.device())) { // --devices: the model on each listed device
            return run(replicas, loaded.samples().stream().map(Sample::ids).toList(), r.options(), r.out(), Corpus.manifestInputs(r.corpus(), loaded),
                    session.progress(), session::checkCancelled);
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
        return run(model, null, sequences, o, out, inputs, progress, cancel);
    }

    /** As above on every device of {@code replicas} ({@code --devices}, see {@link DataParallelLayers}); one device: the same run. */
    public static Result run(ModelReplicas replicas, List<int[]> sequences, QuantizeOptions o, Path out, Map<String, Object> inputs,
                             Progress progress, Runnable cancel) {
        return run(replicas.primary(), replicas.size() > 1 ? replicas : null, sequences, o, out, inputs, progress, cancel);
    }

    private static Result run(MoeModel model, ModelReplicas replicas, List<int[]> sequences, QuantizeOptions o, Path out,
                              Map<String, Object> inputs, Progress progress, Runnable cancel) {
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
            QuantScheme scheme = o.scheme(dtype);
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
            if (replicas == null) MemoryEstimate.check(config, tokens, o, model.backend()); // else per device, on its share
            if (o.awq() != null) AwqLayer.requireSupported(model);
            if (o.awq() != null && replicas != null) {
                throw new RoutecalException("--awq does not run on several devices yet (its statistics pass and fold run on one device's "
                        + "activations): leave out --devices, or --awq");
            }
            Set<String> quantized = new LinkedHashSet<>();
            LayerQuantizer.FallbackCounts fallbacks = new LayerQuantizer.FallbackCounts();
            double tForward = 0, tSolve = 0, tAwq = 0, tAllocation = 0;
            List<Object[]> awqRows = new ArrayList<>();
            List<String> details = new ArrayList<>();
            try (OutputDir dir = outputDir(out, o, modelDir, inputs); CompressedTensorsWriter writer = CompressedTensorsWriter.into(dir.path())) {
                List<List<int[]>> batches = MoeModel.batches(sequences, BATCH_TOKENS);
                List<Integer> batchTokens = batches.stream().map(b -> b.stream().mapToInt(s -> s.length).sum()).toList();
                ExpertAllocation allocation = null;
                if (o.allocation() != null) {
                    long a0 = System.nanoTime();
                    allocation = ExpertAllocation.measure(model, batches, batchTokens, scheme, o, rules, progress, cancel);
                    tAllocation = (System.nanoTime() - a0) / 1e9;
                    details.add(allocation.summary());
                }
                Map<String, QuantScheme> expertSchemes = allocation == null ? Map.of() : allocation.schemes();
                List<Activations> acts = new ArrayList<>();
                DataParallelLayers group = null;
                try {
                    if (replicas != null) group = new DataParallelLayers(replicas, batches, o);
                    else for (List<int[]> b : batches) acts.add(model.embed(b, acts.size()));
                    progress.start("quantize layers", config.layerCount());
                    for (int layer = 0; layer < config.layerCount(); layer++) {
                        cancel.run();
                        if (group != null) {
                            double[] t = group.quantizeLayer(layer, scheme, expertSchemes, o, rules, report, fallbacks, warnings, (module, q) -> {
                                writer.addQuantized(module, q);
                                quantized.add(module);
                            });
                            tForward += t[0];
                            tSolve += t[1];
                            progress.advance(1);
                            continue;
                        }
                        model.weights().beginLayer();
                        LayerQuantizer lq = new LayerQuantizer(model, layer, scheme, o, rules, report).withSchemes(expertSchemes);
                        LayerSmoothing smoothing = null;
                        if (o.awq() != null) {
                            long a0 = System.nanoTime();
                            smoothing = AwqLayer.smooth(model, layer, acts, batchTokens, lq, o, awqRows);
                            lq.smoothing(smoothing);
                            tAwq += (System.nanoTime() - a0) / 1e9;
                        }
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
                        if (smoothing != null) writeSmoothed(writer, source, model, smoothing, quantized);
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
                    acts.forEach(Activations::close);
                    if (group != null) group.close();
                    // a failed or stopped run must not leave quantized weights in the session's model (later stages use it)
                    model.weights().clearOverrides();
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
                QuantReport.write(dir.path().resolve("quant_report.parquet"), report);
                if (o.awq() != null) {
                    AwqReport.write(dir.path().resolve("awq_report.parquet"), awqRows);
                    details.add(AwqReport.line(awqRows));
                }
                if (allocation != null) allocation.write(dir.path());
                timings.put("forward_seconds", tForward);
                timings.put("solve_seconds", tSolve);
                if (o.awq() != null) timings.put("awq_seconds", tAwq);
                if (allocation != null) timings.put("allocation_seconds", tAllocation);
                SourceExport.apply(model, quantized, writer, org.routecal.io.safetensors.DType.valueOf(dtype.name()));
                ActOrder actOrder = o.gptq() ? o.gptqArgs().actOrder() : ActOrder.NONE;
                Map<String, QuantScheme> written = new LinkedHashMap<>();
                expertSchemes.forEach((m, s) -> { if (quantized.contains(m)) written.put(m, s); });
                CtQuantConfig ctConfig = written.isEmpty() ? new CtQuantConfig(scheme, actOrder, ignoreList)
                        : CtQuantConfig.mixed(scheme, written, actOrder, ignoreList);
                writer.commit(modelDir, source, ctConfig);
                List<String> vllm = VllmSupport.notes(ctConfig, allocation != null && allocation.result().widthsDifferWithinLayer());
                QuantizeReadme.write(dir.path(), model, o, ctConfig, vllm, details);
                timings.put("write_seconds", (System.nanoTime() - w0) / 1e9);
                timings.put("total_seconds", (System.nanoTime() - start) / 1e9);
                Manifest.Builder m = manifest(model, o, scheme, group == null ? inputs : group.manifestEntries(inputs), sequences.size(), tokens,
                        quantized.size(), ignoreList.size(), fallbacks, warnings, timings);
                m.result("vllm_notes", vllm);
                if (o.awq() != null) m.result("awq", AwqReport.summary(awqRows));
                if (allocation != null) m.result("bit_allocation", allocation.manifestSummary());
                dir.writeManifest(m.outputsIn(dir.path()).build());
                dir.commit();
                return new Result(out, quantized.size(), ignoreList.size(), fallbacks.total(), fallbacks.minTokenAll,
                        fallbacks.minTokenRtn, fallbacks.choleskyRtn, tokens, warnings, (System.nanoTime() - start) / 1e9,
                        List.copyOf(details), vllm);
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

    /**
     * AWQ changed tensors that are not written quantized (the folded norms, a router or shared-expert gate whose columns
     * absorbed scales, an ignored module): the checkpoint gets their new values, in the source's dtype.
     */
    private static void writeSmoothed(CompressedTensorsWriter writer, SafetensorsCheckpoint source, MoeModel model,
                                      LayerSmoothing smoothing, Set<String> quantized) {
        org.routecal.model.TensorSource values = model.weights().source();
        for (String name : smoothing.tensorNames(values)) {
            if (name.endsWith(".weight") && quantized.contains(name.substring(0, name.length() - ".weight".length()))) continue;
            var info = source.info(name);
            DType d = info.dtype();
            writer.skipSource(name);
            writer.addTensor(name, d == DType.BF16 || d == DType.F16 || d == DType.F32 ? d : DType.BF16, info.shape(), smoothing.tensor(name, values));
        }
    }

    /** manifest.json; {@code inputs} are the command's entries (the corpus file, its options and loader summary). */
    private static Manifest.Builder manifest(MoeModel model, QuantizeOptions o, QuantScheme scheme, Map<String, Object> inputs,
                                     int samples, int tokens, int quantized, int ignored, LayerQuantizer.FallbackCounts fallbacks,
                                     List<String> warnings, Map<String, Double> timings) {
        Manifest.Builder m = Manifest.builder("quantize").model("model", model.dir()).add(inputs);
        m.parameter("scheme", scheme.name()).parameter("scheme_detail", scheme.toString())
                .parameter("algorithm", o.gptq() ? "gptq" : "rtn").parameter("block_size", o.gptqArgs().blockSize())
                .parameter("dampening_frac", o.gptqArgs().dampeningFrac())
                .parameter("act_order", o.gptqArgs().actOrder().name().toLowerCase())
                .parameter("moe_mode", o.moeMode().id()).parameter("hybrid_lambda", o.hybridLambda())
                .parameter("min_tokens", o.minTokens()).parameter("min_token_fallback", o.fallbackToAll() ? "all" : "rtn")
                .parameter("sequential", o.sequential()).parameter("ignore", o.ignore())
                .parameter("awq", o.awq() == null ? null : Map.of("grid_size", o.awq().gridSize(),
                        "duo_scaling", o.awq().duoScaling().name().toLowerCase(java.util.Locale.ROOT)))
                .parameter("bit_allocation", o.allocation() == null ? null : allocationParameters(o.allocation()))
                .device(model.backend());
        m.result("samples", samples).result("tokens", tokens).result("modules_quantized", quantized)
                .result("modules_ignored", ignored).result("fallbacks", fallbacks.total())
                .result("fallback_detail", Map.of("min_tokens_to_all", fallbacks.minTokenAll, "min_tokens_to_rtn", fallbacks.minTokenRtn,
                        "cholesky_to_rtn", fallbacks.choleskyRtn))
                .result("warnings", warnings);
        timings.forEach((k, v) -> m.timing(k.replace("_seconds", ""), v));
        return m;
    }

    private static Map<String, Object> allocationParameters(org.routecal.quant.alloc.AllocationOptions a) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("bits_budget", a.averageBits());
        p.put("bits", a.widths());
        p.put("granularity", a.granularity().name().toLowerCase(java.util.Locale.ROOT));
        p.put("usage_run", a.usageRun() == null ? null : a.usageRun().toString());
        p.put("usage", a.uniformUsage() ? "uniform" : "measured");
        return p;
    }
}
