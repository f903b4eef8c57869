package org.routecal.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;
import org.routecal.io.parquet.ParquetSchema;
import org.routecal.io.parquet.ParquetTableWriter;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.OutputDir;

/**
 * The evaluate stage's files. eval.parquet (format routecal.eval, version 1): model, sample_id, domain, tokens
 * (scored positions), nll (mean), ppl, kl, top1_agreement, router_agreement (the last three null for the original).
 * eval_experts.parquet (routecal.eval-experts, 1): model, layer, expert, tokens, rel_output_error.
 * eval.json: {format, format_version, samples: [{sample_id, domain, model, nll, tokens, ppl, kl, top1_agreement,
 * router_agreement}], domains: [{model, domain, tokens, nll, ppl, kl, top1_agreement}], models: [{name, path,
 * tokens, nll, ppl, kl, top1_agreement, router_agreement_per_layer: {layer: share}}], statistics: {method, resamples,
 * seed, confidence, definitions, models: [{model, mean_nll, mean_delta_nll, worst_domain_delta_nll, worst_domain_delta_nll_domain,
 * mean_kl, worst_domain_kl, worst_domain_kl_domain, domains: [{domain, samples, tokens, nll_token_weighted,
 * nll_per_sample_mean, delta_nll, kl}]}], comparisons: [{model, baseline, mean_delta_nll, worst_domain_delta_nll, mean_kl,
 * worst_domain_kl}]}} where every interval is {estimate, lower, upper} ({@link EvalStatistics}); a domain's "nll" is
 * token-weighted, "nll_per_sample_mean" the plain mean over its samples. eval.html: the tables.
 */
final class EvalOutputs {
    private EvalOutputs() {}

    static final ParquetSchema SAMPLES = ParquetSchema.builder("eval").string("model").string("sample_id").string("domain")
            .int32("tokens").float64("nll").float64("ppl").float64("kl").nullable().float64("top1_agreement").nullable()
            .float64("router_agreement").nullable().build();
    static final ParquetSchema EXPERTS = ParquetSchema.builder("eval_experts").string("model").int32("layer").int32("expert")
            .int64("tokens").float64("rel_output_error").build();

    /** Writes the files into {@code dir} (the staging directory of the evaluate output). */
    static void write(Path dir, List<Object[]> rows, List<Object[]> experts, List<EvaluateStage.ModelMetrics> models,
                      EvalStatistics.Report statistics) {
        try {
            try (ParquetTableWriter w = ParquetTableWriter.create(dir.resolve("eval.parquet"), SAMPLES, "routecal.eval", 1, Map.of())) {
                for (Object[] r : rows) w.append(r);
            }
            try (ParquetTableWriter w = ParquetTableWriter.create(dir.resolve("eval_experts.parquet"), EXPERTS, "routecal.eval-experts", 1, Map.of())) {
                for (Object[] r : experts) w.append(r);
            }
            ObjectMapper json = Json.MAPPER;
            ObjectNode root = json.createObjectNode();
            root.put("format", "routecal.eval");
            root.put("format_version", 1);
            ArrayNode samples = root.putArray("samples");
            Map<String, double[]> domains = new LinkedHashMap<>(); // model\0domain → tokens, Σ tokens·nll, Σ tokens·kl, Σ tokens·top1, Σ nll, samples
            for (Object[] r : rows) {
                ObjectNode s = samples.addObject();
                s.put("sample_id", (String) r[1]);
                s.put("domain", (String) r[2]);
                s.put("model", (String) r[0]);
                s.put("nll", (Double) r[4]);
                s.put("tokens", (Integer) r[3]);
                s.put("ppl", (Double) r[5]);
                if (r[6] != null) s.put("kl", (Double) r[6]);
                if (r[7] != null) s.put("top1_agreement", (Double) r[7]);
                if (r[8] != null) s.put("router_agreement", (Double) r[8]);
                double[] d = domains.computeIfAbsent(r[0] + "\0" + r[2], k -> new double[6]);
                int t = (Integer) r[3];
                d[0] += t;
                d[1] += (Double) r[4] * t;
                d[2] += r[6] == null ? 0 : (Double) r[6] * t;
                d[3] += r[7] == null ? 0 : (Double) r[7] * t;
                d[4] += (Double) r[4];
                d[5]++;
            }
            ArrayNode dom = root.putArray("domains");
            EvalReport report = new EvalReport();
            for (Map.Entry<String, double[]> e : domains.entrySet()) {
                String[] k = e.getKey().split("\0");
                double[] d = e.getValue();
                ObjectNode o = dom.addObject();
                o.put("model", k[0]);
                o.put("domain", k[1]);
                o.put("tokens", (long) d[0]);
                o.put("nll", d[1] / d[0]);
                o.put("nll_per_sample_mean", d[4] / d[5]);
                o.put("ppl", Math.exp(d[1] / d[0]));
                boolean orig = k[0].equals("original");
                if (!orig) {
                    o.put("kl", d[2] / d[0]);
                    o.put("top1_agreement", d[3] / d[0]);
                }
                report.domain(k[0], k[1], (long) d[0], d[1] / d[0], d[4] / d[5], Math.exp(d[1] / d[0]), orig ? Double.NaN : d[2] / d[0],
                        orig ? Double.NaN : d[3] / d[0]);
            }
            ArrayNode ms = root.putArray("models");
            for (EvaluateStage.ModelMetrics m : models) {
                ObjectNode o = ms.addObject();
                o.put("name", m.name());
                o.put("path", m.path());
                o.put("tokens", m.tokens());
                o.put("nll", m.nll());
                o.put("ppl", m.ppl());
                if (m.kl() != null) o.put("kl", m.kl());
                if (m.top1() != null) o.put("top1_agreement", m.top1());
                ObjectNode ra = o.putObject("router_agreement_per_layer");
                m.routerAgreement().forEach((l, v) -> ra.put(Integer.toString(l), v));
            }
            root.set("statistics", statisticsJson(json, statistics));
            AtomicFiles.writeString(dir.resolve("eval.json"), Json.PRETTY.writeValueAsString(root));
            AtomicFiles.writeString(dir.resolve("eval.html"), report.html(models, statistics));
        } catch (IOException e) {
            throw new RoutecalException(dir + ": cannot write evaluation outputs: " + e.getMessage(), e);
        }
    }

    /** The staged output directory of an evaluate run; inputs (model, checkpoints, corpus) are kept apart from it. */
    static OutputDir open(Path out, boolean overwrite, Path modelDir, List<Path> quantized, Map<String, Object> inputs) {
        OutputDir.Builder b = OutputDir.of("evaluate", out).staged(true).overwrite(overwrite).input("--model", modelDir).inputs("--quantized", quantized);
        inputs.forEach((k, v) -> { if (v instanceof Path p) b.input("--" + k, p); });
        return b.open();
    }

    /** manifest.json of an evaluate run. */
    static Manifest manifest(Path dir, org.routecal.model.MoeModel original, List<Path> quantized, Map<String, Object> inputs,
                             EvaluateStage.Result r, double seconds) {
        Manifest.Builder m = Manifest.builder("evaluate").model("model", original.dir()).device(original.backend());
        for (Path q : quantized) m.model("quantized", q);
        m.add(inputs);
        m.parameter("quantized", quantized.stream().map(Path::toString).toList());
        m.result("samples", r.samples());
        for (EvaluateStage.ModelMetrics mm : r.models()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("tokens", mm.tokens());
            one.put("nll", mm.nll());
            one.put("ppl", mm.ppl());
            one.put("kl", mm.kl());
            one.put("top1_agreement", mm.top1());
            m.result("model " + mm.name(), one);
        }
        m.timing("total", seconds);
        return m.outputsIn(dir).build();
    }

    /** How the intervals were made, in words (JSON, HTML and the CLI summary say the same). */
    static String method(EvalStatistics.Options o) {
        return String.format(java.util.Locale.ROOT, "%.0f%% percentile bootstrap, %d resamples of the held-out samples (stratified by domain, seed %d); "
                + "mean = mean over domains of token-weighted domain values, worst = the largest domain value; comparisons are paired "
                + "(both models on the same resamples)", 100 * o.confidence(), o.resamples(), o.seed());
    }

    static ObjectNode statisticsJson(ObjectMapper json, EvalStatistics.Report st) {
        ObjectNode s = json.createObjectNode();
        s.put("method", method(st.options()));
        s.put("resamples", st.options().resamples());
        s.put("seed", st.options().seed());
        s.put("confidence", st.options().confidence());
        ArrayNode ms = s.putArray("models");
        for (EvalStatistics.ModelStats m : st.models()) {
            ObjectNode o = ms.addObject();
            o.put("model", m.model());
            interval(o, "mean_nll", m.meanNll());
            if (m.meanDeltaNll() != null) {
                interval(o, "mean_delta_nll", m.meanDeltaNll());
                interval(o, "worst_domain_delta_nll", m.worstDeltaNll());
                o.put("worst_domain_delta_nll_domain", m.worstDeltaNllDomain());
                interval(o, "mean_kl", m.meanKl());
                interval(o, "worst_domain_kl", m.worstKl());
                o.put("worst_domain_kl_domain", m.worstKlDomain());
            }
            ArrayNode ds = o.putArray("domains");
            for (EvalStatistics.DomainStats d : m.domains()) {
                ObjectNode x = ds.addObject();
                x.put("domain", d.domain());
                x.put("samples", d.samples());
                x.put("tokens", d.tokens());
                x.put("nll_token_weighted", d.nllTokenWeighted());
                x.put("nll_per_sample_mean", d.nllPerSampleMean());
                if (d.deltaNll() != null) interval(x, "delta_nll", d.deltaNll());
                if (d.kl() != null) interval(x, "kl", d.kl());
            }
        }
        ArrayNode cs = s.putArray("comparisons");
        for (EvalStatistics.Comparison c : st.comparisons()) {
            ObjectNode o = cs.addObject();
            o.put("model", c.model());
            o.put("baseline", c.baseline());
            interval(o, "mean_delta_nll", c.meanDeltaNll());
            interval(o, "worst_domain_delta_nll", c.worstDeltaNll());
            interval(o, "mean_kl", c.meanKl());
            interval(o, "worst_domain_kl", c.worstKl());
        }
        return s;
    }

    private static void interval(ObjectNode o, String key, Bootstrap.Interval i) {
        ObjectNode n = o.putObject(key);
        n.put("estimate", i.estimate());
        n.put("lower", i.lower());
        n.put("upper", i.upper());
    }

    private static String marked(Bootstrap.Interval i) {
        return i.format(5) + (i.excludesZero() ? " *" : "");
    }

    /** The CLI summary's interval lines. */
    static String statisticsText(EvalStatistics.Report st) {
        if (st.models().size() < 2) return "";
        StringBuilder sb = new StringBuilder(method(st.options())).append(":\n");
        sb.append(String.format("%-24s %-34s %-34s %-34s%n", "model", "mean ΔNLL [CI]", "worst-domain ΔNLL [CI]", "mean KL [CI]"));
        for (EvalStatistics.ModelStats m : st.models()) {
            if (m.meanDeltaNll() == null) continue;
            sb.append(String.format("%-24s %-34s %-34s %-34s%n", m.model(), m.meanDeltaNll().format(5),
                    m.worstDeltaNll().format(5) + " " + m.worstDeltaNllDomain(), m.meanKl().format(5)));
        }
        for (EvalStatistics.Comparison c : st.comparisons()) {
            sb.append(String.format("paired %s − %s: mean ΔNLL %s, worst-domain ΔNLL %s, mean KL %s%n", c.model(), c.baseline(),
                    marked(c.meanDeltaNll()), marked(c.worstDeltaNll()), marked(c.meanKl())));
        }
        return sb.toString();
    }
}
