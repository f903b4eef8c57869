package org.routecal.eval;

import org.routecal.report.HtmlReport;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.util.List;
import java.util.TreeSet;

/**
 * {@code eval.html}: models, router agreement per layer and per-domain metrics as tables, through the report package
 * (escaped, 4 significant digits, wide tables scroll in their box). Paths are left out: the page is shared.
 */
final class EvalReport {
    /** Perplexity above this means the model is not a language model of the text (e.g. the planted demo model). */
    private static final double NOT_A_LANGUAGE_MODEL_PPL = 1e5;

    private final Table domains = Table.create("Per domain", StringColumn.create("model"), StringColumn.create("domain"),
            LongColumn.create("tokens"), DoubleColumn.create("ppl"), DoubleColumn.create("kl"), DoubleColumn.create("top1_agreement"));

    /** One (model, domain) row; kl and top-1 are NaN for the original model. */
    void domain(String model, String domain, long tokens, double ppl, double kl, double top1) {
        domains.stringColumn("model").append(model);
        domains.stringColumn("domain").append(domain);
        domains.longColumn("tokens").append(tokens);
        domains.doubleColumn("ppl").append(ppl);
        domains.doubleColumn("kl").append(kl);
        domains.doubleColumn("top1_agreement").append(top1);
    }

    String html(List<EvaluateStage.ModelMetrics> models) {
        Table summary = Table.create("Models", StringColumn.create("model"), LongColumn.create("tokens"), DoubleColumn.create("ppl"),
                DoubleColumn.create("kl"), DoubleColumn.create("top1_agreement"));
        TreeSet<Integer> layers = new TreeSet<>();
        double maxPpl = 0;
        for (EvaluateStage.ModelMetrics m : models) {
            summary.stringColumn("model").append(m.name());
            summary.longColumn("tokens").append(m.tokens());
            summary.doubleColumn("ppl").append(m.ppl());
            summary.doubleColumn("kl").append(m.kl() == null ? Double.NaN : m.kl());
            summary.doubleColumn("top1_agreement").append(m.top1() == null ? Double.NaN : m.top1());
            layers.addAll(m.routerAgreement().keySet());
            maxPpl = Math.max(maxPpl, m.ppl());
        }
        Table agreement = Table.create("Router agreement (share of tokens whose top-k expert set is unchanged), per layer",
                StringColumn.create("model"));
        for (int l : layers) agreement.addColumns(DoubleColumn.create("layer " + l));
        for (EvaluateStage.ModelMetrics m : models) {
            if (m.routerAgreement().isEmpty()) continue;
            agreement.stringColumn("model").append(m.name());
            for (int l : layers) agreement.doubleColumn("layer " + l).append(m.routerAgreement().getOrDefault(l, Double.NaN));
        }
        HtmlReport r = HtmlReport.titled("routecal evaluate").section("Models").table(summary);
        if (maxPpl > NOT_A_LANGUAGE_MODEL_PPL) {
            r.text("Perplexity in the hundreds of thousands or more means the model does not model this text (the demo "
                    + "model's routing is planted and its weights are random), so compare KL and agreement, not perplexity.");
        }
        if (agreement.rowCount() > 0) r.section("Router agreement").table(agreement);
        return r.section("Per domain").table(domains).toHtml();
    }
}
