package org.routecal.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.report.BrowserCheck;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * eval.html with hostile model and domain names, opened in headless Chromium; router agreement is a table; the
 * confidence-interval and paired-difference sections carry the names as text too.
 */
class EvalReportHostileTest {
    @Test
    void hostileNamesRenderAsTextAndAgreementIsATable(@TempDir Path tmp) throws Exception {
        String hostile = BrowserCheck.HOSTILE;
        EvalReport r = new EvalReport();
        r.domain("original", hostile, 100, 14.7, 14.6, 2.5e6, Double.NaN, Double.NaN);
        r.domain(hostile, hostile, 100, 14.8, 14.7, 2.6e6, 0.0123456, 0.91);
        List<EvalStatistics.SampleRow> rows = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String domain = i % 2 == 0 ? hostile : "code";
            rows.add(new EvalStatistics.SampleRow("original", "s" + i, domain, 10, 1.0 + 0.01 * i, null));
            rows.add(new EvalStatistics.SampleRow(hostile, "s" + i, domain, 10, 1.1 + 0.02 * i, 0.01 + 0.001 * i));
            rows.add(new EvalStatistics.SampleRow("w3", "s" + i, domain, 10, 1.3 + 0.01 * i, 0.03));
        }
        EvalStatistics.Report statistics = EvalStatistics.compute(rows, new EvalStatistics.Options(200, 0, 0.95, hostile));
        String html = r.html(List.of(
                new EvaluateStage.ModelMetrics("original", "/abs/original", 100, 14.7, 2.5e6, null, null, Map.of()),
                new EvaluateStage.ModelMetrics(hostile, "/abs/q", 100, 14.8, 2.6e6, 0.0123456, 0.91, Map.of(0, 0.875, 1, 0.5))), statistics);
        assertFalse(html.contains("{0=") || html.contains("/abs/"), "no Java map string, no paths");
        assertTrue(html.contains("<th title=\"DOUBLE\">layer 1</th>") && html.contains("<td>0.875</td>"), "agreement per layer as a table");
        assertTrue(html.contains("<td>0.01235</td>"), "4 significant digits");
        assertTrue(html.contains("does not model this text"), "the note on perplexity in the millions");
        assertTrue(html.contains("Confidence intervals") && html.contains("Paired differences"), "the statistics sections");
        Path page = tmp.resolve("eval.html");
        Files.writeString(page, html);
        BrowserCheck.assertPage(page, "--charts", "0", "--text", hostile);
    }
}
