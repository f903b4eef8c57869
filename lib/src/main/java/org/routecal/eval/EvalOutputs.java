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
 * tokens, nll, ppl, kl, top1_agreement, router_agreement_per_layer: {layer: share}}]}. eval.html: the tables.
 */
final class EvalOutputs {
    private EvalOutputs() {}

    static final List<Column> SAMPLE_COLUMNS = List.of(new Column("model", Kind.STRING), new Column("sample_id", Kind.STRING),
            new Column("domain", Kind.STRING), new Column("tokens", Kind.INT32), new Column("nll", Kind.DOUBLE), new Column("ppl", Kind.DOUBLE),
            new Column("kl", Kind.DOUBLE), new Column("top1_agreement", Kind.DOUBLE), new Column("router_agreement", Kind.DOUBLE));
    static final List<Column> EXPERT_COLUMNS = List.of(new Column("model", Kind.STRING), new Column("layer", Kind.INT32),
            new Column("expert", Kind.INT32), new Column("tokens", Kind.INT64), new Column("rel_output_error", Kind.DOUBLE));

    static void write(Path target, boolean overwrite, List<Object[]> rows, List<Object[]> experts, List<EvaluateStage.ModelMetrics> models) {
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
            Map<String, double[]> domains = new LinkedHashMap<>(); // model\0domain → tokens, nll sum, kl sum, top1 sum
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
                double[] d = domains.computeIfAbsent(r[0] + "\0" + r[2], k -> new double[4]);
                int t = (Integer) r[3];
                d[0] += t;
                d[1] += (Double) r[4] * t;
                d[2] += r[6] == null ? 0 : (Double) r[6] * t;
                d[3] += r[7] == null ? 0 : (Double) r[7] * t;
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
                o.put("ppl", Math.exp(d[1] / d[0]));
                boolean orig = k[0].equals("original");
                if (!orig) {
                    o.put("kl", d[2] / d[0]);
                    o.put("top1_agreement", d[3] / d[0]);
                }
                report.domain(k[0], k[1], (long) d[0], Math.exp(d[1] / d[0]), orig ? Double.NaN : d[2] / d[0], orig ? Double.NaN : d[3] / d[0]);
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
            Files.writeString(tmp.resolve("eval.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            Files.writeString(tmp.resolve("eval.html"), report.html(models));
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
}
