package org.routecal.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    static Path dir() throws Exception {
        // Not @TempDir: surefire's java.io.tmpdir (target/tmp) need not exist yet.
        return Files.createTempDirectory(Files.createDirectories(Path.of("target", "report-test")), "r");
    }

    @Test
    void longTablesArePagedAndCappedShortOnesAreNot() {
        String small = Tables.toHtml(squares(3));
        assertEquals(1, count(small, "<tbody"));
        assertEquals(3, count(small, "<tr><td>"));
        assertFalse(small.contains("rc-pager"));
        assertTrue(small.contains("overflow-x:auto"), "a wide table scrolls inside its box");

        String paged = Tables.toHtml(squares(60), 25, 50);
        assertEquals(2, count(paged, "<tbody"), "50 shown rows in pages of 25");
        assertEquals(50, count(paged, "<tr><td>"));
        assertEquals(1, count(paged, "style=\"display:none\""), "only the first page visible without script");
        assertTrue(paged.contains("first 50 of 60 rows shown"));
        assertTrue(paged.contains("60 rows"));
    }

    @Test
    void numbersShowFourSignificantDigits() {
        assertEquals("0.1235", Tables.number(0.123456789));
        assertEquals("1235", Tables.number(1234.5678));
        assertEquals("2", Tables.number(2.0));
        assertEquals("1.235e+7", Tables.number(12345678.9));
        assertEquals("1.235e-5", Tables.number(0.0000123456));
        assertEquals("NaN", Tables.number(Double.NaN));
        Table t = Table.create("t", DoubleColumn.create("x", new double[] {1.0 / 3}), IntColumn.create("n", new int[] {123456}));
        String html = Tables.toHtml(t);
        assertTrue(html.contains("<td>0.3333</td>") && html.contains("<td>123456</td>"), html);
    }

    @Test
    void cellTextIsEscaped() {
        Table t = Table.create("x<y", StringColumn.create("s", new String[] {"<script>alert(1)</script>"}));
        String html = Tables.toHtml(t);
        assertFalse(html.contains("<script>alert"));
        assertTrue(html.contains("&lt;script&gt;") && html.contains("x&lt;y"));
    }

    @Test
    void scriptJsonCannotEndTheScriptAndKeepsTheValue() throws Exception {
        String hostile = "</script><!--&\u2028\u2029>";
        String json = new ObjectMapper().writeValueAsString(List.of(hostile));
        String safe = Html.scriptJson(json);
        for (String bad : List.of("<", ">", "&", "\u2028", "\u2029")) assertFalse(safe.contains(bad), bad);
        assertEquals(hostile, new ObjectMapper().readTree(safe).get(0).asText(), "the escapes decode to the same text");
    }

    @Test
    void chartJsonIsPlotlyJsonWithNullsForNonFiniteValues() throws Exception {
        Chart c = Chart.titled("It's \"load\"").axes("x", "y").markers("m", new double[] {1, 2, 3}, new double[] {0.5, Double.NaN, 2}, "#1565c0", 4, 0.5)
                .bar("b", List.of("a", "b"), new double[] {1, Double.POSITIVE_INFINITY});
        JsonNode j = new ObjectMapper().readTree(c.toJson());
        assertEquals("It's \"load\"", j.at("/layout/title/text").asText());
        assertEquals(2, j.path("data").size());
        JsonNode y = j.at("/data/0/y");
        assertTrue(y.get(0).isNumber() && y.get(1).isNull() && y.get(2).isNumber(), "NaN is a gap, never the string \"NaN\": " + y);
        assertTrue(j.at("/data/1/y/1").isNull());
        assertEquals("#1565c0", j.at("/data/0/marker/color").asText());
        assertThrows(IllegalArgumentException.class, () -> Chart.titled("t").lines("bad", new double[] {1}, new double[] {1, 2}));
    }

    @Test
    void staticImageIsAPngOfTheLayoutSize() throws Exception {
        for (Chart c : List.of(Chart.bars("bars", squares(5), "n", "square"),
                Chart.lines("lines", squares(5), "n", "square"),
                Chart.titled("heat").size(500, 300).heatmap(List.of(0, 1), List.of("a", "b", "c"), new double[][] {{1, 2}, {3, Double.NaN}, {5, 6}}),
                Chart.bars("stack", squares(4), "n", "square").stacked())) {
            byte[] png = ChartImage.png(c).orElseThrow(() -> new AssertionError("no image for " + c));
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            int w = c.json().at("/layout/width").asInt(760), h = c.json().at("/layout/height").asInt();
            assertEquals(w, img.getWidth());
            assertEquals(h, img.getHeight());
            // Not blank: a drawn chart has many colours.
            long colours = IntStream.range(0, img.getWidth() * img.getHeight()).map(i -> img.getRGB(i % img.getWidth(), i / img.getWidth())).distinct().count();
            assertTrue(colours > 10, c + " has " + colours + " colours");
        }
    }

    @Test
    void reportEmbedsPlotlyOnceGzippedAndEveryChartCarriesItsImage() throws Exception {
        Path dir = dir();
        Path out = dir.resolve("r.html");
        HtmlReport.titled("Report").section("S").text("t").table(squares(3))
                .chart(Chart.bars("A", squares(3), "n", "square")).chart(Chart.bars("B", squares(5), "n", "square")).write(out);
        String html = Files.readString(out);
        assertEquals(1, count(html, "<script type=\"text/x-routecal-plotly\""), "bundle embedded once");
        assertEquals(2, count(html, "class=\"rc-chart\""));
        assertEquals(2, count(html, "src=\"data:image/png;base64,"), "a static image per chart");
        assertFalse(html.contains("<script src"), "nothing loaded from outside");
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temp file left beside the report");
        }
        BrowserCheck.assertPage(out, "--charts", "2");
        BrowserCheck.assertPage(out, "--charts", "2", "--no-js");
    }

    @Test
    void hostileTextsInEveryPartRenderAsTextInChromium() throws Exception {
        String h = BrowserCheck.HOSTILE;
        Table t = Table.create(h, StringColumn.create(h, new String[] {h}), DoubleColumn.create("v", new double[] {1}));
        Chart c = Chart.titled(h).axes(h, h).bar(h, List.of(h, "b"), new double[] {1, 2});
        Path out = dir().resolve("hostile.html");
        HtmlReport.titled(h).section(h).text(h).preformatted(h).table(t).chart(c)
                .part(new DisplayPart.Legend(h, List.of(new DisplayPart.Legend.Entry(h, "#123456", h)))).write(out);
        BrowserCheck.assertPage(out, "--charts", "1", "--text", h);
    }
}
