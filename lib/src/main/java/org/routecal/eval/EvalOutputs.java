package org.routecal.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.RoutecalException;
import org.routecal.quant.report.FlatParquet;
import org.routecal.quant.report.FlatParquet.Column;
import org.routecal.quant.report.FlatParquet.Kind;

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

    static final List<Column> SAMPLE_COLUMNS = List.of(new Column("model", Kind.STRING), new Column("sample_id", Kind.STRING),
            new Column("domain", Kind.STRING), new Column("tokens", Kind.INT32), new Column("nll", Kind.DOUBLE), new Column("ppl", Kind.DOUBLE),
            new Column("kl", Kind.DOUBLE), new Column("top1_agreement", Kind.DOUBLE), new Column("router_agreement", Kind.DOUBLE));
    static final List<Column> EXPERT_COLUMNS = List.of(new Column("model", Kind.STRING), new Column("layer", Kind.INT32),
            new Column("expert", Kind.INT32), new Column("tokens", Kind.INT64), new Column("rel_output_error", Kind.DOUBLE));

    static void write(Path target, boolean overwrite, List<Object[]> rows, List<Object[]> experts, List<EvaluateStage.ModelMetrics> models,
                      EvalStatistics.Report statistics) {
        try {
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".tmp-");
            FlatParquet.write(tmp.resolve("eval.parquet"), SAMPLE_COLUMNS, rows, Map.of("format", "routecal.eval", "format_version", "1"));
            FlatParquet.write(tmp.resolve("eval_experts.parquet"), EXPERT_COLUMNS, experts, Map.of("format", "routecal.eval-experts", "format_version", "1"));
            ObjectMapper json = new ObjectMapper();
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
            StringBuilder domHtml = new StringBuilder();
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
                domHtml.append(String.format("<tr><td>%s</td><td>%s</td><td>%d</td><td>%.5f</td><td>%.5f</td><td>%.4f</td><td>%s</td><td>%s</td></tr>%n",
                        esc(k[0]), esc(k[1]), (long) d[0], d[1] / d[0], d[4] / d[5], Math.exp(d[1] / d[0]), orig ? "" : String.format("%.5f", d[2] / d[0]), orig ? "" : String.format("%.4f", d[3] / d[0])));
            }
            ArrayNode ms = root.putArray("models");
            StringBuilder modelHtml = new StringBuilder();
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
                modelHtml.append(String.format("<tr><td>%s</td><td>%d</td><td>%.4f</td><td>%s</td><td>%s</td><td>%s</td></tr>%n", esc(m.name()), m.tokens(), m.ppl(),
                        m.kl() == null ? "" : String.format("%.5f", m.kl()), m.top1() == null ? "" : String.format("%.4f", m.top1()),
                        esc(m.routerAgreement().toString())));
            }
            root.set("statistics", statisticsJson(json, statistics));
            Files.writeString(tmp.resolve("eval.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            Files.writeString(tmp.resolve("eval.html"), "<!doctype html><html><head><meta charset=\"utf-8\"><title>routecal evaluate</title>"
                    + "<style>table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head><body>"
                    + "<h1>Evaluation</h1><h2>Models</h2><table><tr><th>model</th><th>tokens</th><th>ppl</th><th>KL(orig‖q)</th><th>top-1 agreement</th><th>router agreement per layer</th></tr>"
                    + modelHtml + "</table>" + statisticsHtml(statistics)
                    + "<h2>Domains</h2><table><tr><th>model</th><th>domain</th><th>tokens</th><th>NLL (token-weighted)</th>"
                    + "<th>NLL (per-sample mean)</th><th>ppl (token-weighted)</th><th>KL</th><th>top-1</th></tr>"
                    + domHtml + "</table></body></html>");
            if (Files.exists(target)) {
                if (!overwrite) throw new RoutecalException(target + " already exists; pass --overwrite to replace it");
                Path old = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
                Files.move(target, old.resolve("d"), StandardCopyOption.ATOMIC_MOVE);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                org.routecal.quant.ct.CompressedTensorsWriter.deleteTree(old);
            } else {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new RoutecalException(target + ": cannot write evaluation outputs: " + e.getMessage(), e);
        }
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

    static String statisticsHtml(EvalStatistics.Report st) {
        StringBuilder sb = new StringBuilder("<h2>Confidence intervals</h2><p>").append(esc(method(st.options()))).append("</p>");
        sb.append("<table><tr><th>model</th><th>mean ΔNLL</th><th>worst-domain ΔNLL</th><th>mean KL</th><th>worst-domain KL</th></tr>");
        for (EvalStatistics.ModelStats m : st.models()) {
            if (m.meanDeltaNll() == null) continue;
            sb.append("<tr><td>").append(esc(m.model())).append("</td><td>").append(m.meanDeltaNll().format(5)).append("</td><td>")
                    .append(m.worstDeltaNll().format(5)).append(" (").append(esc(m.worstDeltaNllDomain())).append(")</td><td>")
                    .append(m.meanKl().format(5)).append("</td><td>").append(m.worstKl().format(5)).append(" (").append(esc(m.worstKlDomain()))
                    .append(")</td></tr>");
        }
        sb.append("</table>");
        if (!st.comparisons().isEmpty()) {
            sb.append("<h2>Paired differences (model − baseline; negative: model better)</h2><table><tr><th>model</th><th>baseline</th>"
                    + "<th>mean ΔNLL</th><th>worst-domain ΔNLL</th><th>mean KL</th><th>worst-domain KL</th></tr>");
            for (EvalStatistics.Comparison c : st.comparisons()) {
                sb.append("<tr><td>").append(esc(c.model())).append("</td><td>").append(esc(c.baseline())).append("</td><td>")
                        .append(marked(c.meanDeltaNll())).append("</td><td>").append(marked(c.worstDeltaNll())).append("</td><td>")
                        .append(marked(c.meanKl())).append("</td><td>").append(marked(c.worstKl())).append("</td></tr>");
            }
            sb.append("</table><p>* the interval excludes zero.</p>");
        }
        return sb.toString();
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

    static String esc(String s) {
        return org.routecal.report.Html.escape(s);
    }
}
