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
    private static String marked(Bootstrap.Interval i) {
        return i.format(5) + (i.excludesZero() ? " *" : "");
    }

    /** Perplexity above this means the model is not a language model of the text (e.g. the planted demo model). */
    private static final double NOT_A_LANGUAGE_MODEL_PPL = 1e5;

    private final Table domains = Table.create("Per domain", StringColumn.create("model"), StringColumn.create("domain"),
            LongColumn.create("tokens"), DoubleColumn.create("nll (token-weighted)"), DoubleColumn.create("nll (per-sample mean)"),
            DoubleColumn.create("ppl"), DoubleColumn.create("kl"), DoubleColumn.create("top1_agreement"));

    /** One (model, domain) row; kl and top-1 are NaN for the original model. */
    void domain(String model, String domain, long tokens, double nll, double nllPerSample, double ppl, double kl, double top1) {
        domains.stringColumn("model").append(model);
        domains.stringColumn("domain").append(domain);
        domains.longColumn("tokens").append(tokens);
        domains.doubleColumn("nll (token-weighted)").append(nll);
        domains.doubleColumn("nll (per-sample mean)").append(nllPerSample);
        domains.doubleColumn("ppl").append(ppl);
        domains.doubleColumn("kl").append(kl);
        domains.doubleColumn("top1_agreement").append(top1);
    }

    String html(List<EvaluateStage.ModelMetrics> models, EvalStatistics.Report statistics) {
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
        if (statistics != null && statistics.models().stream().anyMatch(m -> m.meanDeltaNll() != null)) {
            Table ci = Table.create("Intervals", StringColumn.create("model"), StringColumn.create("mean ΔNLL"),
                    StringColumn.create("worst-domain ΔNLL"), StringColumn.create("mean KL"), StringColumn.create("worst-domain KL"));
            for (EvalStatistics.ModelStats m : statistics.models()) {
                if (m.meanDeltaNll() == null) continue;
                ci.stringColumn("model").append(m.model());
                ci.stringColumn("mean ΔNLL").append(m.meanDeltaNll().format(5));
                ci.stringColumn("worst-domain ΔNLL").append(m.worstDeltaNll().format(5) + " (" + m.worstDeltaNllDomain() + ")");
                ci.stringColumn("mean KL").append(m.meanKl().format(5));
                ci.stringColumn("worst-domain KL").append(m.worstKl().format(5) + " (" + m.worstKlDomain() + ")");
            }
            r.section("Confidence intervals").text(EvalOutputs.method(statistics.options())).table(ci);
            if (!statistics.comparisons().isEmpty()) {
                Table pd = Table.create("Paired differences", StringColumn.create("model"), StringColumn.create("baseline"),
                        StringColumn.create("mean ΔNLL"), StringColumn.create("worst-domain ΔNLL"), StringColumn.create("mean KL"),
                        StringColumn.create("worst-domain KL"));
                for (EvalStatistics.Comparison c : statistics.comparisons()) {
                    pd.stringColumn("model").append(c.model());
                    pd.stringColumn("baseline").append(c.baseline());
                    pd.stringColumn("mean ΔNLL").append(marked(c.meanDeltaNll()));
                    pd.stringColumn("worst-domain ΔNLL").append(marked(c.worstDeltaNll()));
                    pd.stringColumn("mean KL").append(marked(c.meanKl()));
                    pd.stringColumn("worst-domain KL").append(marked(c.worstKl()));
                }
                r.section("Paired differences (model − baseline; negative: model better)").table(pd)
                        .text("* the interval excludes zero.");
            }
        }
        if (agreement.rowCount() > 0) r.section("Router agreement").table(agreement);
        return r.section("Per domain").table(domains).toHtml();
    }
}
