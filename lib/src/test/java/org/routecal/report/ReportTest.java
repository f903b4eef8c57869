package org.routecal.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.api.LinePlot;
import tech.tablesaw.plotly.api.VerticalBarPlot;
import tech.tablesaw.plotly.components.Figure;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class ReportTest {
    static Table squares(int n) {
        return Table.create("sq", IntColumn.create("n", IntStream.range(0, n).toArray()),
                DoubleColumn.create("square", IntStream.range(0, n).mapToDouble(i -> (double) i * i).toArray()));
    }

    static int count(String s, String sub) {
        int c = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) c++;
        return c;
    }

    @Test
    void longTablesArePagedAndCappedShortOnesAreNot() {
        String small = Tables.toHtml(squares(3));
        assertEquals(1, count(small, "<tbody"));
        assertEquals(3, count(small, "<tr><td>"));
        assertFalse(small.contains("rc-pager"));

        String paged = Tables.toHtml(squares(60), 25, 50);
        assertEquals(2, count(paged, "<tbody"), "50 shown rows in pages of 25");
        assertEquals(50, count(paged, "<tr><td>"));
        assertEquals(1, count(paged, "style=\"display:none\""), "only the first page visible without script");
        assertTrue(paged.contains("first 50 of 60 rows shown"));
        assertTrue(paged.contains("60 rows"));
    }

    @Test
    void cellTextIsEscaped() {
        Table t = Table.create("x<y", StringColumn.create("s", new String[] {"<script>alert(1)</script>"}));
        String html = Tables.toHtml(t);
        assertFalse(html.contains("<script>alert"));
        assertTrue(html.contains("&lt;script&gt;") && html.contains("x&lt;y"));
    }

    @Test
    void figureJsonCarriesTracesAndUnescapedTitle() throws Exception {
        Figure f = LinePlot.create("It's \"load\"", squares(4), "n", "square");
        JsonNode j = new ObjectMapper().readTree(Figures.toPlotlyJson(f));
        assertEquals("It's \"load\"", j.path("layout").path("title").asText());
        assertEquals(1, j.path("data").size());
        assertEquals("scatter", j.path("data").get(0).path("type").asText());
        assertEquals(4, j.path("data").get(0).path("x").size());
    }

    @Test
    void reportEmbedsPlotlyOnceAndNoCdn() throws Exception {
        // Not @TempDir: surefire's java.io.tmpdir (target/tmp) need not exist yet.
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "report-test")), "r");
        Figure a = VerticalBarPlot.create("A", squares(3), "n", "square");
        Figure b = VerticalBarPlot.create("B", squares(5), "n", "square");
        Path out = dir.resolve("r.html");
        HtmlReport.titled("Report").section("S").text("t").table(squares(3)).figure(a).figure(b).write(out);
        String html = Files.readString(out);
        assertEquals(1, count(html, "plotly.js v" + PlotlyJs.VERSION), "bundle embedded once");
        // No external script (plotly.js itself mentions cdn.plot.ly, for topojson maps we never draw).
        assertFalse(html.contains("<script src"));
        assertEquals(2, count(html, "Plotly.newPlot(target_"), "one drawing script per figure");
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temp file left beside the report");
        }
    }
}
