package org.routecal.report;

import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Figure;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A self-contained HTML report: sections of text, tables and figures in one file that renders offline (plotly.js
 * embedded once in the page head, no CDN, no external CSS). Build it in reading order, then {@link #write(Path)}.
 * <pre>{@code
 * HtmlReport.titled("Routing report").section("Expert load").table(stats).figure(loadChart).write(out.resolve("report.html"));
 * }</pre>
 */
public final class HtmlReport {
    private static final String STYLE = "body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px}"
            + "table{margin:8px 0}th{background:#f0f0f0}td,th{padding:2px 6px;text-align:right}"
            + "pre{background:#f7f7f7;padding:8px;overflow-x:auto}.rc-note{color:#666;font-size:12px}";

    private final String title;
    private final List<String> body = new ArrayList<>();
    private boolean hasFigures;

    private HtmlReport(String title) {
        this.title = title;
    }

    public static HtmlReport titled(String title) {
        return new HtmlReport(title);
    }

    public HtmlReport section(String heading) {
        body.add("<h2>" + Html.escape(heading) + "</h2>");
        return this;
    }

    public HtmlReport text(String text) {
        body.add("<p>" + Html.escape(text) + "</p>");
        return this;
    }

    public HtmlReport preformatted(String text) {
        body.add(Html.pre(text));
        return this;
    }

    /** A trusted HTML fragment, added as is. */
    public HtmlReport html(String fragment) {
        body.add(fragment);
        return this;
    }

    public HtmlReport table(Table table) {
        body.add(Tables.toHtml(table));
        return this;
    }

    public HtmlReport figure(Figure figure) {
        hasFigures = true;
        body.add(Figures.toHtml(figure, Figures.newDivId()));
        return this;
    }

    /** All parts of a result, in its order. */
    public HtmlReport parts(Displayable result) {
        for (DisplayPart part : result.displayParts()) {
            if (part instanceof DisplayPart.Text t) preformatted(t.text());
            else if (part instanceof DisplayPart.Html h) html(h.html());
            else if (part instanceof DisplayPart.TablePart t) table(t.table());
            else if (part instanceof DisplayPart.FigurePart f) figure(f.figure());
        }
        return this;
    }

    public String toHtml() {
        return page(title, String.join("\n", body), hasFigures);
    }

    /** Writes the page atomically (temp file in the same folder, then rename). */
    public void write(Path file) {
        writeAtomically(file, toHtml());
    }

    /** A complete page around a body; plotly.js goes into the head once when {@code withPlotly}. */
    public static String page(String title, String bodyHtml, boolean withPlotly) {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Html.escape(title)
                + "</title>\n<style>" + STYLE + "</style>\n" + (withPlotly ? PlotlyJs.scriptTag() : "")
                + "</head>\n<body>\n<h1>" + Html.escape(title) + "</h1>\n" + bodyHtml + "\n</body></html>\n";
    }

    /** Temp files are created owner-only; a report is an ordinary file (rw-r--r--). */
    /** Writes a finished page (e.g. from {@link #page}) atomically. */
    public static void writePage(Path file, String html) {
        writeAtomically(file, html);
    }

    private static void writeAtomically(Path file, String content) {
        org.routecal.io.AtomicFiles.writeString(file, content);
    }
}
