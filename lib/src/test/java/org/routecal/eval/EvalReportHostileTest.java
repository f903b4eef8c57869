package org.routecal.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.report.BrowserCheck;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** eval.html with hostile model and domain names, opened in headless Chromium; router agreement is a table. */
class EvalReportHostileTest {
    @Test
    void hostileNamesRenderAsTextAndAgreementIsATable(@TempDir Path tmp) throws Exception {
        String hostile = BrowserCheck.HOSTILE;
        EvalReport r = new EvalReport();
        r.domain("original", hostile, 100, 2.5e6, Double.NaN, Double.NaN);
        r.domain(hostile, hostile, 100, 2.6e6, 0.0123456, 0.91);
        String html = r.html(List.of(
                new EvaluateStage.ModelMetrics("original", "/abs/original", 100, 14.7, 2.5e6, null, null, Map.of()),
                new EvaluateStage.ModelMetrics(hostile, "/abs/q", 100, 14.8, 2.6e6, 0.0123456, 0.91, Map.of(0, 0.875, 1, 0.5))));
        assertFalse(html.contains("{0=") || html.contains("/abs/"), "no Java map string, no paths");
        assertTrue(html.contains("<th title=\"DOUBLE\">layer 1</th>") && html.contains("<td>0.875</td>"), "agreement per layer as a table");
        assertTrue(html.contains("<td>0.01235</td>"), "4 significant digits");
        assertTrue(html.contains("does not model this text"), "the note on perplexity in the millions");
        Path page = tmp.resolve("eval.html");
        Files.writeString(page, html);
        BrowserCheck.assertPage(page, "--charts", "0", "--text", hostile);
    }
}
