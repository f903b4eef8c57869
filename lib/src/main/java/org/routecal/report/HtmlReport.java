package org.routecal.report;

import org.routecal.io.AtomicFiles;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A self-contained HTML report: sections of text, tables and charts in one file that renders offline (plotly.js
 * embedded once, gzipped, no CDN, no external CSS; every chart also carries its static image). Build it in reading
 * order, then {@link #write(Path)}. Every value goes through {@link Parts} and {@link Html}: nothing here takes HTML.
 * <pre>{@code
 * HtmlReport.titled("Routing report").section("Expert load").table(stats).chart(loadChart).write(out.resolve("report.html"));
 * }</pre>
 */
public final class HtmlReport {
    static final String STYLE = "body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px}"
            + "table{margin:8px 0}th{background:#f0f0f0}td,th{padding:2px 6px;text-align:right}"
            + "pre{background:#f7f7f7;padding:8px;overflow-x:auto}.rc-note{color:#666;font-size:12px}";

    private final String title;
    private final List<String> body = new ArrayList<>();
    private boolean hasCharts;

    private HtmlReport(String title) {
        this.title = title;
    }

    public static HtmlReport titled(String title) {
        return new HtmlReport(title);
    }

    public HtmlReport section(String heading) {
        return part(DisplayPart.heading(heading));
    }

    public HtmlReport text(String text) {
        return part(DisplayPart.paragraph(text));
    }

    public HtmlReport preformatted(String text) {
        return part(DisplayPart.text(text));
    }

    public HtmlReport table(Table table) {
        return part(DisplayPart.table(table));
    }

    public HtmlReport chart(Chart chart) {
        return part(DisplayPart.chart(chart));
    }

    public HtmlReport part(DisplayPart part) {
        if (part instanceof DisplayPart.ChartPart) hasCharts = true;
        body.add(Parts.html(part));
        return this;
    }

    /** All parts of a result, in its order. */
    public HtmlReport parts(Displayable result) {
        result.displayParts().forEach(this::part);
        return this;
    }

    public String toHtml() {
        return page(title, String.join("\n", body), hasCharts);
    }

    /** Writes the page atomically. */
    public void write(Path file) {
        AtomicFiles.writeString(file, toHtml());
    }

    /**
     * A complete page around {@code bodyHtml}, which must come from {@link Parts} or {@link Html}; the plotly.js bundle
     * goes into the head once when {@code withCharts}.
     */
    public static String page(String title, String bodyHtml, boolean withCharts) {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Html.escape(title)
                + "</title>\n<style>" + STYLE + "</style>\n" + (withCharts ? PlotlyJs.bundleTag() : "")
                + "</head>\n<body>\n<h1>" + Html.escape(title) + "</h1>\n" + bodyHtml + "\n</body></html>\n";
    }
}
